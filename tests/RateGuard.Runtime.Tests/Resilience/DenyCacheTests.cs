using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using RateGuard.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using RateGuard.TestSupport;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Resilience;

/// <summary>
/// Runs on a server of its own, because it reads the server's command statistics, and alone, because it times
/// what the cache serves against a retry-after.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class DenyCacheTests(ITestOutputHelper output) : IDisposable
{
    private readonly RedisFixture _redis = new();

    [Fact]
    public async Task A_rejected_hot_key_costs_no_redis_call_until_its_retry_after()
    {
        // The limiter's clock is held still while the cache is hammered and moved by hand, so what is checked is the
        // cache's rule (serve until the retry-after, and for no longer than it trusts an entry), not how many requests
        // a busy machine gets through in some fraction of a second. Redis keeps its own clock, which decides at the end.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // One instance, configured: no heartbeat, whose script calls Redis would count with the decisions'.
        using var harness = new LimiterHarness(_redis.Connection, time, o => o.InstanceCount = 1);
        var policy = TestPolicies.Create(capacity: 3, rate: 0.25); // one token every four seconds
        await harness.Acquire(policy, "warm-up");
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await harness.Acquire(policy, "hot")).IsAdmitted);
        }
        // Timed from before the rejected request is sent, as the cache's entry is, so the wait at the end is real.
        var sinceRejection = Stopwatch.StartNew();
        var rejected = await harness.Acquire(policy, "hot");
        Assert.Equal(DecisionSource.Store, rejected.Source);
        Assert.False(rejected.IsAdmitted);
        _redis.Admin.Execute("CONFIG", "RESETSTAT");

        // Served from the cache across all of the time it may serve: up to the rejection's retry-after, and up to the
        // second for which the cache trusts an entry before asking Redis once more, less a millisecond. The limiter's
        // clock stood still while the rejection was decided, so on it the entry began just now.
        const int served = 500;
        var window = Min(rejected.Decision.RetryAfter, DenyCache.RevalidateAfter) - TimeSpan.FromMilliseconds(1);
        Assert.True(window > TimeSpan.Zero, $"The rejection's retry-after of {rejected.Decision.RetryAfter} leaves no time to test the cache.");
        var step = window / served;
        var advanced = TimeSpan.Zero;
        for (var i = 0; i < served; i++)
        {
            var result = await harness.Acquire(policy, "hot");
            Assert.Equal(DecisionSource.DenyCache, result.Source);
            // The wait left, counted down on the limiter's clock from the rejection's own.
            Assert.Equal(rejected.Decision.RetryAfter - advanced, result.Decision.RetryAfter);
            time.Advance(step);
            advanced += step;
        }

        output.WriteLine($"{served} requests served from the deny cache across {advanced.TotalMilliseconds:F0} ms of the limiter's clock; evalsha calls: {_redis.CommandCalls("evalsha")}");
        Assert.Equal(0, _redis.CommandCalls("evalsha"));
        Assert.Equal(served, harness.Count(policy.Name, RequestResults.DenyCache));

        // Once the retry-after has passed, on Redis's clock and on the limiter's, Redis decides again and admits.
        var wait = rejected.Decision.RetryAfter - sinceRejection.Elapsed + TimeSpan.FromMilliseconds(20);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
        time.Advance(sinceRejection.Elapsed - advanced);
        var after = await harness.Acquire(policy, "hot");
        Assert.Equal(DecisionSource.Store, after.Source);
        Assert.True(after.IsAdmitted);
        Assert.Equal(1, _redis.CommandCalls("evalsha"));
    }

    [Fact]
    public async Task The_deny_cache_never_rejects_a_request_that_redis_would_have_admitted()
    {
        using var harness = new LimiterHarness(_redis.Connection);
        var policy = TestPolicies.Create(capacity: 2, rate: 20); // a token every 50 ms: many cache expiries in a run
        var store = new RedisTokenBucketStore(_redis.Connection);
        var key = store.GetKey(policy, "hot");
        var fromCache = 0;
        var inconclusive = 0;
        var worst = long.MaxValue;

        // For two seconds, and on until enough denials were judged, however slowly a busy machine gets through them,
        // within a generous limit.
        var run = Stopwatch.StartNew();
        while ((run.Elapsed < TimeSpan.FromSeconds(2) || fromCache - inconclusive <= 50) && run.Elapsed < TimeSpan.FromSeconds(60))
        {
            var deniedAt = Stopwatch.GetTimestamp();
            var result = await harness.Acquire(policy, "hot");
            if (result.Source != DecisionSource.DenyCache)
            {
                continue;
            }
            fromCache++;
            // Read the bucket without touching it, then wind the server's clock back to the moment of the denial.
            var stored = _redis.Database.StringGet(key);
            if (stored.IsNull)
            {
                // The bucket had refilled completely by the time it was read: this sample cannot be judged.
                inconclusive++;
                continue;
            }
            var fullAt = (long)stored;
            var time = (RedisResult[])_redis.Admin.Execute("TIME")!;
            var serverNow = (long)time[0] * 1_000_000 + (long)time[1];
            var atDenial = serverNow - (long)Stopwatch.GetElapsedTime(deniedAt).TotalMicroseconds;
            // Microseconds from the denial until the bucket could pay this request's cost: must not be negative.
            var untilAffordable = fullAt + policy.Cost * policy.IntervalMicroseconds - policy.WindowMicroseconds - atDenial;
            worst = Math.Min(worst, untilAffordable);
        }

        output.WriteLine($"{fromCache} deny-cache rejections ({inconclusive} read too late to judge); the closest came {worst} µs before the bucket could pay");
        Assert.True(fromCache - inconclusive > 50, "The run must exercise the deny cache.");
        Assert.True(worst >= 0, $"A deny-cache rejection came {-worst} µs after Redis would have admitted the request.");
    }

    [Fact]
    public async Task A_cheaper_request_than_the_one_rejected_still_asks_redis()
    {
        using var harness = new LimiterHarness(_redis.Connection);
        var dear = TestPolicies.Create(capacity: 4, rate: 0.01, cost: 3);
        var cheap = dear.WithCost(1);

        Assert.True((await harness.Acquire(dear, "k")).IsAdmitted);   // 1 left
        Assert.Equal(DecisionSource.Store, (await harness.Acquire(dear, "k")).Source);
        Assert.Equal(DecisionSource.DenyCache, (await harness.Acquire(dear, "k")).Source);

        var result = await harness.Acquire(cheap, "k");

        Assert.Equal(DecisionSource.Store, result.Source);
        Assert.True(result.IsAdmitted);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    public void Dispose() => _redis.Dispose();
}
