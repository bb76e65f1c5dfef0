using System.Diagnostics;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;

namespace RateGuard.Runtime.Tests.Redis;

[Collection(RedisCollection.Name)]
public sealed class RedisServerClockTests(RedisFixture redis)
{
    private readonly RedisTokenBucketStore _store = new(redis.Connection);

    [Fact]
    public async Task A_two_second_sleep_refills_twice_the_rate_within_five_percent()
    {
        const double rate = 50;
        var policy = TestPolicies.Create(capacity: 1000, rate: rate);
        var bigSpender = policy.WithCost(1000);
        Assert.True((await _store.AcquireAsync(bigSpender, "k")).IsAdmitted);

        var slept = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(2));
        // A request that costs one token reports what was there before it took its token.
        var probe = await _store.AcquireAsync(policy, "k");
        var elapsed = slept.Elapsed.TotalSeconds;

        Assert.True(probe.IsAdmitted);
        var refilled = probe.Remaining + 1;
        // The sleep is 2 s, but a busy machine can overrun it: compare with the time that really passed.
        Assert.InRange(elapsed, 1.99, 3.0); // a timer may fire a hair early
        var expected = rate * elapsed;
        Assert.InRange(refilled, expected * 0.95, expected * 1.05);
    }

    [Fact]
    public async Task Server_clock_decisions_report_consistent_timing()
    {
        var policy = TestPolicies.Create(capacity: 2, rate: 1);

        var first = await _store.AcquireAsync(policy, "k");
        var second = await _store.AcquireAsync(policy, "k");
        var third = await _store.AcquireAsync(policy, "k");

        Assert.Equal((true, 1L), (first.IsAdmitted, first.Remaining));
        Assert.Equal((true, 0L), (second.IsAdmitted, second.Remaining));
        Assert.False(third.IsAdmitted);
        // Time passes between calls on a real clock, so the waits are slightly under a token's interval.
        Assert.InRange(third.RetryAfter, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(1));
        Assert.InRange(third.ResetAfter, TimeSpan.FromMilliseconds(1900), TimeSpan.FromSeconds(2));
    }
}
