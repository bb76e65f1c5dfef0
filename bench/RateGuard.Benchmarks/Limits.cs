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
}
