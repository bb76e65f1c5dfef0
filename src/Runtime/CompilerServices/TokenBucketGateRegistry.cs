using System.Collections.Concurrent;
using System.ComponentModel;
using System.Reflection;
using RateGuard.Configuration;

namespace RateGuard.CompilerServices;

/// <summary>
/// Where generated code hands its gates to the runtime. Each compilation that uses <c>[TokenBucket]</c> registers its
/// gates from a module initializer, so nothing intercepts <c>Map*</c> calls and nothing is found by reflection.
/// </summary>
/// <remarks>
/// <para>
/// The types of <c>RateGuard.CompilerServices</c> (this registry, <see cref="TokenBucketGate"/>,
/// <see cref="TokenBucketSpec"/>, <see cref="TokenBucketGateFactory"/> and <see cref="TokenBucketKeyReaders"/>) are
/// public only because generated gates, compiled into the application's own assemblies, call them. Like
/// <c>System.Runtime.CompilerServices</c>, the namespace holds what a compiler emits calls to, not what people write:
/// its name says so at every use, and its types are hidden from completion.
/// </para>
/// <para>
/// They are a frozen contract. A library compiled against one version of RateGuard must run against the next, so a
/// member is only ever added, never changed or removed; <c>PublicAPI.Shipped.txt</c> records them.
/// </para>
/// </remarks>
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

    /// <summary>
    /// Registers the limit <paramref name="name"/> that <paramref name="assembly"/> declares with
    /// <c>[assembly: TokenBucketLimit(...)]</c>. Called by generated code, once per declaration.
    /// </summary>
    public static void RegisterLimit(Assembly assembly, string name, TokenBucketSpec spec)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(name);
        DeclaredLimits.Register(assembly, name, spec);
    }

    /// <summary>
    /// The spec of the declared limit <paramref name="name"/>, from the registered declarations or, for the entry
    /// assembly compiled without the generator, its attributes. For startup code that resolves a name, such as the
    /// gateway's route checks.
    /// </summary>
    /// <exception cref="InvalidOperationException">No limit has that name, or two declarations do; the message names the declared limits.</exception>
    public static TokenBucketSpec GetLimit(string name) => DeclaredLimits.Get(name);
}
