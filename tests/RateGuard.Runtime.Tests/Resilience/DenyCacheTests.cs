using System.Diagnostics;
using RateGuard.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
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
        using var harness = new LimiterHarness(_redis.Connection);
        var policy = TestPolicies.Create(capacity: 3, rate: 0.25); // one token every four seconds
        // Warm up on another key first (JIT, connection, script load), so the bucket under test drains in moments
        // and the rejection's retry-after is close to the full four seconds.
        await harness.Acquire(policy, "warm-up");
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await harness.Acquire(policy, "hot")).IsAdmitted);
        }
        // Timed from before the rejected request is sent, as the cache's entry is, so the margin below is real.
        var sinceRejection = Stopwatch.StartNew();
        var rejected = await harness.Acquire(policy, "hot");
        Assert.Equal(DecisionSource.Store, rejected.Source);
        Assert.False(rejected.IsAdmitted);
        _redis.Admin.Execute("CONFIG", "RESETSTAT");

        // Hammer for half a second, but never past the rejection's own retry-after (less a margin): after that
        // Redis must decide again, which is the second half of this test. Nor past the second for which the cache
        // trusts an entry before asking Redis once more.
        var hammerFor = TimeSpan.FromMilliseconds(Math.Min(500, Math.Min(
            (rejected.Decision.RetryAfter - sinceRejection.Elapsed).TotalMilliseconds - 250,
            (DenyCache.RevalidateAfter - sinceRejection.Elapsed).TotalMilliseconds - 250)));
        Assert.True(hammerFor > TimeSpan.FromMilliseconds(100), $"The rejection's retry-after of {rejected.Decision.RetryAfter} leaves no time to test the cache.");
        var hammer = Stopwatch.StartNew();
        var served = 0;
        while (hammer.Elapsed < hammerFor)
        {
            var result = await harness.Acquire(policy, "hot");
            Assert.Equal(DecisionSource.DenyCache, result.Source);
            Assert.InRange(result.Decision.RetryAfter, TimeSpan.Zero, TimeSpan.FromSeconds(4));
            served++;
        }

        output.WriteLine($"{served} requests served from the deny cache in {hammerFor.TotalMilliseconds:F0} ms; evalsha calls: {_redis.CommandCalls("evalsha")}");
        Assert.True(served > 100);
        Assert.Equal(0, _redis.CommandCalls("evalsha"));
        Assert.Equal(served, harness.Count(policy.Name, DecisionResults.DenyCache));

        // Once the retry-after has passed, Redis decides again and admits.
        var wait = rejected.Decision.RetryAfter - sinceRejection.Elapsed + TimeSpan.FromMilliseconds(20);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
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

        var run = Stopwatch.StartNew();
        while (run.Elapsed < TimeSpan.FromSeconds(2))
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

    public void Dispose() => _redis.Dispose();
}
