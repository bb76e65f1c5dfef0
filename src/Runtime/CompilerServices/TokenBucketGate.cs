using System.ComponentModel;
using Microsoft.AspNetCore.Http;

namespace RateGuard.CompilerServices;

/// <summary>
/// One <c>[TokenBucket]</c> limit on one endpoint: its policy, and how to read the client's key from a request.
/// The source generator emits a sealed subclass per distinct limit, with the constants folded in.
/// </summary>
/// <remarks>
/// Part of the contract that generated code calls (see <see cref="TokenBucketGateRegistry"/>): not for application
/// code, and kept compatible from one version to the next.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class TokenBucketGate
{
    /// <summary>Creates a gate for <paramref name="policy"/>.</summary>
    protected TokenBucketGate(TokenBucketPolicy policy, string keyDescription)
    {
        Policy = policy ?? throw new ArgumentNullException(nameof(policy));
        KeyDescription = keyDescription ?? throw new ArgumentNullException(nameof(keyDescription));
    }

    /// <summary>The bucket this gate draws from, with any configuration override applied.</summary>
    public TokenBucketPolicy Policy { get; internal set; }

    /// <summary>What a request gets through this gate while the store cannot decide.</summary>
    public FailureMode FailureMode { get; internal set; }

    /// <summary>The prefix length by which an <c>ip</c> key groups IPv6 clients.</summary>
    protected internal int Ipv6PrefixLength { get; internal set; } = 128;

    /// <summary>The key source as written in the attribute, or the resolver's type name, for messages.</summary>
    public string KeyDescription { get; }

    /// <summary>Whether the key is read from the authenticated user (<c>user</c> or <c>claim:...</c>).</summary>
    internal bool KeysOnUser => KeyDescription == "user" || KeyDescription.StartsWith("claim:", StringComparison.Ordinal);

    /// <summary>Reads the client's key from the request; <see langword="null"/> when the request has none.</summary>
    public abstract string? GetPartitionKey(HttpContext context);
}
