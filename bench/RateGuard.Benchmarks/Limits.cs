namespace RateGuard.Benchmarks;

/// <summary>The limits the benchmarks measure, declared as an app would, so the generator emits their gates.</summary>
public static class Limits
{
    /// <summary>A bucket that admits every request of a run: what is measured is the decision, not the rejection.</summary>
    [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000)]
    public static string ByIp() => "pong";

    /// <summary>The same limit keyed by a header, for key extraction.</summary>
    [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000, Key = "header:X-Api-Key")]
    public static string ByHeader() => "pong";

    /// <summary>The header-keyed limit reading the caller's plan from a header.</summary>
    [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000, Key = "header:X-Api-Key", Bucket = "planned", Plan = "header:X-Plan")]
    public static string PlanFromHeader() => "pong";

    /// <summary>The header-keyed limit asking a plan resolver for the caller's plan.</summary>
    [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000, Key = "header:X-Api-Key", Bucket = "resolved", PlanResolver = typeof(PlanDirectory))]
    public static string PlanFromResolver() => "pong";

    /// <summary>A bucket with exempt and deny lists, beside the plain limit on another endpoint.</summary>
    [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000, Key = "header:X-Api-Key", Bucket = "listed")]
    public static string Listed() => "pong";

    /// <summary>The header-keyed limit counting failures only: every request of a run succeeds, so each gets its token back.</summary>
    [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000, Key = "header:X-Api-Key", Bucket = "failures", Count = TokenBucketCount.Failures)]
    public static string CountsFailures() => "pong";

    /// <summary>The header-keyed limit whose handler may charge its actual cost; the benchmark's handler reports none.</summary>
    [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000, Key = "header:X-Api-Key", Bucket = "metered", MaxCost = 1_000)]
    public static string Metered() => "pong";

    /// <summary>The header-keyed limit, its bucket in shadow mode by configuration.</summary>
    [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000, Key = "header:X-Api-Key", Bucket = "watched")]
    public static string Watched() => "pong";
}
