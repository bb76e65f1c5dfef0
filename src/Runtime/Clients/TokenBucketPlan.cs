namespace RateGuard;

/// <summary>
/// One plan of a bucket: the capacity and rate its callers get instead of the limit's own, or no limit at all. Bound
/// from <c>TokenBuckets:Buckets:&lt;bucket&gt;:Plans:&lt;plan&gt;</c>; a value set there replaces the one declared in code
/// with <c>AddTokenBucketPlans</c>, and a value left unset keeps it.
/// </summary>
public sealed class TokenBucketPlan
{
    /// <summary>The most tokens a caller on this plan holds.</summary>
    public int? Capacity { get; set; }

    /// <summary>Tokens added per second for a caller on this plan.</summary>
    public double? Rate { get; set; }

    /// <summary>Callers on this plan skip this bucket: no tokens are taken, and they are counted as exempt.</summary>
    public bool? Unlimited { get; set; }
}
