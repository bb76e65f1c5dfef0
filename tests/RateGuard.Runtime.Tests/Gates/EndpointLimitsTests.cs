using RateGuard.Http;

namespace RateGuard.Runtime.Tests.Gates;

/// <summary>
/// The one rule by which the gate table enforces an endpoint's limits and API descriptions document them.
/// </summary>
public sealed class EndpointLimitsTests
{
    [Fact]
    public void DisableTokenBucket_removes_every_limit_declared_before_it_and_keeps_those_after_in_order()
    {
        var group = new TokenBucketAttribute(100, 10) { Bucket = "group" };
        var controller = new TokenBucketAttribute(50, 5) { Bucket = "controller" };
        var own = new TokenBucketAttribute(10, 1) { Key = "header:X-Api-Key" };
        var stacked = new TokenBucketAttribute(2, 1) { Key = "global" };

        var limits = EndpointLimits.InForce([group, "other metadata", controller, new DisableTokenBucketAttribute(), own, stacked]);

        Assert.Equal(new[] { own, stacked }, limits);
    }

    [Fact]
    public void A_DisableTokenBucket_after_every_limit_leaves_the_endpoint_unlimited()
    {
        var limits = EndpointLimits.InForce([new TokenBucketAttribute(10, 1), new DisableTokenBucketAttribute()]);

        Assert.Empty(limits);
    }
}
