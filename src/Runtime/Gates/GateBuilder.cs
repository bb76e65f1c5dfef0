using RateGuard.CompilerServices;

namespace RateGuard.Gates;

/// <summary>
/// Builds the gate of one limit for one bucket: the generated gate when the limit's assembly registered one, otherwise
/// a <see cref="FallbackTokenBucketGate"/>, each complete with the settings it reads keys by.
/// </summary>
/// <remarks>
/// Generated constructors are part of the frozen contract: they take only the bucket (and the services, for a
/// resolver) and pass the base constructor the policy and key description. A setting reaches them at construction the
/// only way left: the base constructor reads it from the build this class runs on the same thread, and the gate keeps
/// it for its life. Nothing is set on a gate after it is built.
/// </remarks>
internal static class GateBuilder
{
#pragma warning disable IDE1006 // t_ marks a thread-static field
    [ThreadStatic]
    private static int? t_ipv6PrefixLength;
#pragma warning restore IDE1006

    /// <summary>
    /// The IPv6 prefix length of the gate being built on this thread; outside a build, 128 (whole addresses), as a
    /// gate created directly by its factory reads them.
    /// </summary>
    internal static int Ipv6PrefixLength => t_ipv6PrefixLength ?? 128;

    /// <summary>The gate of <paramref name="spec"/>: the generated one if registered, else a fallback gate.</summary>
    public static TokenBucketGate Build(TokenBucketSpec spec, string bucket, IServiceProvider services, int ipv6PrefixLength) =>
        TokenBucketGateRegistry.TryGet(spec, out var factory)
            ? Build(factory, bucket, services, ipv6PrefixLength)
            : BuildFallback(spec, bucket, services, ipv6PrefixLength);

    /// <summary>The gate <paramref name="factory"/> creates, generated code's or any other.</summary>
    public static TokenBucketGate Build(TokenBucketGateFactory factory, string bucket, IServiceProvider services, int ipv6PrefixLength)
    {
        var outer = Enter(ipv6PrefixLength);
        try
        {
            return factory(bucket, services);
        }
        finally
        {
            t_ipv6PrefixLength = outer;
        }
    }

    /// <summary>The fallback gate of <paramref name="spec"/>, whether or not a generated one exists.</summary>
    public static TokenBucketGate BuildFallback(TokenBucketSpec spec, string bucket, IServiceProvider services, int ipv6PrefixLength)
    {
        var outer = Enter(ipv6PrefixLength);
        try
        {
            return new FallbackTokenBucketGate(spec, bucket, services);
        }
        finally
        {
            t_ipv6PrefixLength = outer;
        }
    }

    // A resolver's constructor may itself build a gate: the outer build gets its setting back when the inner one ends.
    private static int? Enter(int ipv6PrefixLength)
    {
        var outer = t_ipv6PrefixLength;
        t_ipv6PrefixLength = ipv6PrefixLength;
        return outer;
    }
}
