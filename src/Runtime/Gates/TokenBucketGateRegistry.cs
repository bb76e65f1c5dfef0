using System.Collections.Concurrent;
using System.ComponentModel;

namespace RateGuard.Gates;

/// <summary>
/// Where generated code hands its gates to the runtime. Each compilation that uses <c>[TokenBucket]</c> registers its
/// gates from a module initializer, so nothing intercepts <c>Map*</c> calls and nothing is found by reflection.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TokenBucketGateRegistry
{
    private static readonly ConcurrentDictionary<TokenBucketSpec, TokenBucketGateFactory> s_factories = new();

    /// <summary>Registers the generated gate for <paramref name="spec"/>. Called by generated code.</summary>
    public static void Register(TokenBucketSpec spec, TokenBucketGateFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        s_factories.TryAdd(spec, factory);
    }

    /// <summary>Finds the generated gate for <paramref name="spec"/>.</summary>
    public static bool TryGet(TokenBucketSpec spec, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TokenBucketGateFactory? factory) =>
        s_factories.TryGetValue(spec, out factory);
}
