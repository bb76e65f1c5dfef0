using System.Threading.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Interop;

/// <summary>The <see cref="RateLimiter"/> adapter against the contract of System.Threading.RateLimiting and the configuration.</summary>
public sealed class RateLimiterAdapterTests
{
    private static ServiceProvider Services(Action<TokenBucketOptions>? configure = null)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddTokenBuckets(o => configure?.Invoke(o));
        return services.BuildServiceProvider();
    }

    [Fact]
    public void A_permit_is_one_request_of_the_policy_and_more_than_the_bucket_can_hold_throws()
    {
        using var services = Services();
        using var limiter = TokenBucketRateLimitPartition.Create(services, new TokenBucketPolicy("permits", capacity: 10, rate: 0.01, cost: 5), "k");

        var outcomes = Enumerable.Range(0, 3).Select(_ =>
        {
            using var lease = limiter.AttemptAcquire(1);
            return lease.IsAcquired;
        }).ToList();
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => limiter.AttemptAcquire(3));

        Assert.Equal([true, true, false], outcomes);
        Assert.Equal("permitCount", tooMany.ParamName);
        Assert.Contains("exceed the capacity of bucket 'permits' (10 tokens)", tooMany.Message);
    }

    [Fact]
    public async Task One_permit_of_a_policy_costing_more_than_its_capacity_is_refused_for_good_not_thrown()
    {
        using var services = Services();
        using var limiter = TokenBucketRateLimitPartition.Create(services, new TokenBucketPolicy("oversized", capacity: 2, rate: 1, cost: 3), "k");

        using var lease = await limiter.AcquireAsync(1);

        Assert.False(lease.IsAcquired);
        Assert.False(lease.TryGetMetadata(MetadataName.RetryAfter, out _));
    }

    [Fact]
    public async Task A_disposed_limiter_refuses_to_acquire()
    {
        using var services = Services();
        var limiter = TokenBucketRateLimitPartition.Create(services, new TokenBucketPolicy("disposed", 10, 1), "k");
        limiter.Dispose();

        Assert.Throws<ObjectDisposedException>(() => limiter.AttemptAcquire(1));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await limiter.AcquireAsync(1));
    }

    [Fact]
    public void A_bucket_override_from_configuration_applies_to_the_adapter()
    {
        using var services = Services(o => o.Buckets["overridden"] = new TokenBucketOverride { Capacity = 1 });
        using var limiter = TokenBucketRateLimitPartition.Create(services, new TokenBucketPolicy("overridden", capacity: 100, rate: 0.01), "k");

        using var first = limiter.AttemptAcquire(1);
        using var second = limiter.AttemptAcquire(1);

        Assert.True(first.IsAcquired);
        Assert.False(second.IsAcquired);
    }

    [Fact]
    public async Task A_bucket_s_own_failure_mode_applies_when_redis_cannot_decide()
    {
        var closedPort = RedisServer.FreePort();
        using var services = Services(o =>
        {
            o.Redis = $"127.0.0.1:{closedPort},abortConnect=false,connectTimeout=200";
            o.Buckets["guarded"] = new TokenBucketOverride { FailureMode = FailureMode.Closed };
        });
        using var guarded = TokenBucketRateLimitPartition.Create(services, new TokenBucketPolicy("guarded", 10, 1), "k");
        using var open = TokenBucketRateLimitPartition.Create(services, new TokenBucketPolicy("open", 10, 1), "k");

        using var refused = await guarded.AcquireAsync(1);
        using var admitted = await open.AcquireAsync(1);

        Assert.False(refused.IsAcquired);
        Assert.True(admitted.IsAcquired);
    }
}
