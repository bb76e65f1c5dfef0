using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using RateGuard.TestSupport;

namespace RateGuard.Runtime.Tests.Redis;

/// <summary>
/// Each decision is read together with the server's time when the script ran, so what is compared is the store's
/// arithmetic against the clock it reads, not against the test machine's, which a busy host makes late.
/// </summary>
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
        var (drained, drainedAt) = await DecideAsync(bigSpender, "k");
        Assert.True(drained.IsAdmitted);

        await Task.Delay(TimeSpan.FromSeconds(2));
        // A request that costs one token reports what was there before it took its token.
        var (probe, probedAt) = await DecideAsync(policy, "k");

        Assert.True(probe.IsAdmitted);
        var refilled = probe.Remaining + 1;
        // The server ran the first script before the sleep began and the second after it ended: its clock saw at least
        // the sleep (less a hair: a timer may fire early), and however much more a busy machine added.
        var elapsed = (probedAt - drainedAt) / 1_000_000.0;
        Assert.True(elapsed >= 1.99, $"The server saw {elapsed:F3} s pass across a two-second sleep.");
        Assert.True(elapsed < policy.Capacity / rate, $"The server saw {elapsed:F3} s pass: the bucket was full again, so its refill cannot be read.");
        var expected = rate * elapsed;
        Assert.InRange(refilled, expected * 0.95, expected * 1.05);
    }

    [Fact]
    public async Task Server_clock_decisions_report_consistent_timing()
    {
        // A token every ten seconds: however slowly the three calls arrive, the third still finds the bucket empty.
        var policy = TestPolicies.Create(capacity: 2, rate: 0.1);
        var interval = TimeSpan.FromTicks(policy.IntervalMicroseconds * TimeSpan.TicksPerMicrosecond);

        var (first, firstAt) = await DecideAsync(policy, "k");
        var (second, _) = await DecideAsync(policy, "k");
        var (third, thirdAt) = await DecideAsync(policy, "k");

        Assert.Equal((true, 1L), (first.IsAdmitted, first.Remaining));
        Assert.Equal((true, 0L), (second.IsAdmitted, second.Remaining));
        Assert.False(third.IsAdmitted);
        // The first token taken is the first to come back, one interval after it was taken, and the bucket is full
        // one interval after that: each wait is exactly that, less the server time that passed since the first call.
        var since = TimeSpan.FromTicks((thirdAt - firstAt) * TimeSpan.TicksPerMicrosecond);
        Assert.InRange(since, TimeSpan.Zero, interval);
        Assert.Equal(interval - since, third.RetryAfter);
        Assert.Equal(2 * interval - since, third.ResetAfter);
    }

    // One decision through the store's own call, with the server's time when the script ran (µs since the epoch).
    private async Task<(RateLimitDecision Decision, long ServerNow)> DecideAsync(TokenBucketPolicy policy, string key)
    {
        var decisions = new RateLimitDecision[1];
        var result = await _store.DecideAsync([_store.GetKey(policy, key)], [new BucketCharge(policy, policy.Cost, 0)], deadline: 0);
        var reply = TokenBucketScript.Read(result, decisions);
        return (decisions[0], reply.ServerNow);
    }
}
