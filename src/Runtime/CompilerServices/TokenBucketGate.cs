using System.ComponentModel;
using Microsoft.AspNetCore.Http;
using RateGuard.Gates;

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
        Ipv6PrefixLength = GateBuilder.Ipv6PrefixLength;
    }

    /// <summary>
    /// The bucket as the attribute declares it. Configuration may override its capacity and rate and set its failure
    /// mode; the runtime keeps those beside the gate, which stays as the attribute made it.
    /// </summary>
    public TokenBucketPolicy Policy { get; }

    /// <summary>The prefix length by which an <c>ip</c> key groups IPv6 clients, as configured when the gate was built.</summary>
    protected internal int Ipv6PrefixLength { get; }

    /// <summary>The key source as written in the attribute, or the resolver's type as C# names it, for messages.</summary>
    public string KeyDescription { get; }

    /// <summary>Whether the key is read from the authenticated user (<c>user</c> or <c>claim:...</c>).</summary>
    internal bool KeysOnUser => KeyDescription == "user" || KeyDescription.StartsWith("claim:", StringComparison.Ordinal);

    /// <summary>Whether the key is the connection's remote address (<c>ip</c>).</summary>
    internal bool KeysOnRemoteAddress => KeyDescription == "ip";

    /// <summary>Reads the client's key from the request; <see langword="null"/> when the request has none.</summary>
    public abstract string? GetPartitionKey(HttpContext context);
}
