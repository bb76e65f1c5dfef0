using RateGuard.Configuration;

namespace RateGuard.Runtime.Tests.Policies;

/// <summary>What configuration makes of a declared bucket, as endpoint gates and the RateLimiter adapter both get it.</summary>
public sealed class ConfiguredPolicyTests
{
    private static readonly TokenBucketPolicy s_declared = new("search", capacity: 10, rate: 2, cost: 2);

    [Fact]
    public void A_bucket_without_an_override_keeps_its_declared_policy_and_takes_the_default_failure_mode()
    {
        var configured = ConfiguredPolicy.Of(new TokenBucketOptions { FailureMode = FailureMode.Closed }, s_declared);

        Assert.Same(s_declared, configured.Policy);
        Assert.Equal(FailureMode.Closed, configured.FailureMode);
        Assert.Null(configured.IgnoredOverride);
    }

    [Fact]
    public void An_override_replaces_capacity_rate_and_failure_mode_and_keeps_name_and_cost()
    {
        var options = new TokenBucketOptions();
        options.Buckets["search"] = new TokenBucketOverride { Capacity = 40, Rate = 8, FailureMode = FailureMode.Closed };

        var configured = ConfiguredPolicy.Of(options, s_declared);

        Assert.Equal("search (capacity 40, rate 8/s, cost 2)", configured.Policy.ToString());
        Assert.Equal(FailureMode.Closed, configured.FailureMode);
        Assert.Null(configured.IgnoredOverride);
    }

    [Fact]
    public void An_override_below_the_cost_is_ignored_with_its_reason_and_the_failure_mode_still_applies()
    {
        var options = new TokenBucketOptions();
        options.Buckets["search"] = new TokenBucketOverride { Capacity = 1, FailureMode = FailureMode.Closed };

        var configured = ConfiguredPolicy.Of(options, s_declared);

        Assert.Same(s_declared, configured.Policy);
        Assert.Equal(FailureMode.Closed, configured.FailureMode);
        Assert.Equal(
            "TokenBuckets:Buckets:search:Capacity 1 is invalid with a cost of 2 tokens per request: " + LimitRules.CostWithinCapacity + ".",
            configured.IgnoredOverride?.Message);
    }
}
