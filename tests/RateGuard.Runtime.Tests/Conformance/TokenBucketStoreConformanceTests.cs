using RateGuard.Runtime.Tests.Infrastructure;

namespace RateGuard.Runtime.Tests.Conformance;

/// <summary>
/// The token-bucket semantics every store must have. Each store runs these unchanged, in client-clock mode with a
/// fake clock, so the expected figures are exact. Redis still expires keys in real time, so the scenarios use rates
/// whose time-to-full is seconds: a stalled test machine cannot expire a bucket between two steps.
/// </summary>
public abstract class TokenBucketStoreConformanceTests : IDisposable
{
    private const string Key = "203.0.113.7";

    protected TokenBucketStoreConformanceTests(IStoreHarness harness) => Harness = harness;

    private IStoreHarness Harness { get; }

    private ValueTask<RateLimitDecision> Acquire(TokenBucketPolicy policy, string key = Key) => Harness.Store.AcquireAsync(policy, key);

    private static RateLimitDecision Admitted(long remaining, double resetAfterMs) =>
        new(true, remaining, TimeSpan.Zero, TimeSpan.FromMilliseconds(resetAfterMs));

    private static RateLimitDecision Rejected(long remaining, double retryAfterMs, double resetAfterMs) =>
        new(false, remaining, TimeSpan.FromMilliseconds(retryAfterMs), TimeSpan.FromMilliseconds(resetAfterMs));

    [Fact]
    public async Task A_fresh_bucket_is_full()
    {
        var policy = TestPolicies.Create(capacity: 10, rate: 0.5);

        Assert.Equal(Admitted(remaining: 9, resetAfterMs: 2000), await Acquire(policy));
    }

    [Fact]
    public async Task Draining_admits_exactly_capacity_then_rejects_without_deducting()
    {
        var policy = TestPolicies.Create(capacity: 10, rate: 0.5);

        for (var expected = 9; expected >= 0; expected--)
        {
            Assert.Equal(Admitted(remaining: expected, resetAfterMs: (10 - expected) * 2000), await Acquire(policy));
        }

        Assert.Equal(Rejected(remaining: 0, retryAfterMs: 2000, resetAfterMs: 20000), await Acquire(policy));
        Assert.Equal(Rejected(remaining: 0, retryAfterMs: 2000, resetAfterMs: 20000), await Acquire(policy));
    }

    [Fact]
    public async Task A_partial_refill_yields_whole_tokens_and_keeps_the_fraction()
    {
        var policy = TestPolicies.Create(capacity: 10, rate: 0.5);
        await Drain(policy, 10);

        Harness.Clock.Advance(TimeSpan.FromMilliseconds(3000)); // 1.5 tokens

        Assert.Equal(Admitted(remaining: 0, resetAfterMs: 19000), await Acquire(policy));
        Assert.Equal(Rejected(remaining: 0, retryAfterMs: 1000, resetAfterMs: 19000), await Acquire(policy));
        Harness.Clock.Advance(TimeSpan.FromMilliseconds(1000));
        Assert.Equal(Admitted(remaining: 0, resetAfterMs: 20000), await Acquire(policy));
    }

    [Fact]
    public async Task Refill_is_capped_at_capacity()
    {
        var policy = TestPolicies.Create(capacity: 5, rate: 0.5);
        await Drain(policy, 3);

        Harness.Clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(Admitted(remaining: 4, resetAfterMs: 2000), await Acquire(policy));
        await Drain(policy, 4);
        Assert.Equal(Rejected(remaining: 0, retryAfterMs: 2000, resetAfterMs: 10000), await Acquire(policy));
    }

    [Fact]
    public async Task A_cost_above_one_takes_that_many_tokens_and_a_rejection_takes_none()
    {
        var policy = TestPolicies.Create(capacity: 10, rate: 1, cost: 3);

        Assert.Equal(Admitted(remaining: 7, resetAfterMs: 3000), await Acquire(policy));
        Assert.Equal(Admitted(remaining: 4, resetAfterMs: 6000), await Acquire(policy));
        Assert.Equal(Admitted(remaining: 1, resetAfterMs: 9000), await Acquire(policy));
        Assert.Equal(Rejected(remaining: 1, retryAfterMs: 2000, resetAfterMs: 9000), await Acquire(policy));

        // The rejection took nothing: the single remaining token can still be spent at cost 1.
        Assert.Equal(Admitted(remaining: 0, resetAfterMs: 10000), await Acquire(policy.WithCost(1)));
        Harness.Clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(Admitted(remaining: 0, resetAfterMs: 10000), await Acquire(policy));
    }

    [Fact]
    public async Task A_cost_above_capacity_is_never_admitted_and_says_so()
    {
        var policy = TestPolicies.Create(capacity: 5, rate: 1, cost: 6);

        var first = await Acquire(policy);
        Harness.Clock.Advance(TimeSpan.FromDays(1));
        var later = await Acquire(policy);

        foreach (var decision in new[] { first, later })
        {
            Assert.False(decision.IsAdmitted);
            Assert.Equal(RateLimitDecision.Never, decision.RetryAfter);
            Assert.False(decision.CanEverBeAdmitted);
            Assert.Equal(5, decision.Remaining);
            Assert.Equal(TimeSpan.Zero, decision.ResetAfter);
        }
        Assert.Equal(Admitted(remaining: 4, resetAfterMs: 1000), await Acquire(policy.WithCost(1)));
    }

    [Fact]
    public async Task A_rate_of_half_a_token_per_second_refills_one_token_every_two_seconds()
    {
        var policy = TestPolicies.Create(capacity: 1, rate: 0.5);

        Assert.Equal(Admitted(remaining: 0, resetAfterMs: 2000), await Acquire(policy));
        Assert.Equal(Rejected(remaining: 0, retryAfterMs: 2000, resetAfterMs: 2000), await Acquire(policy));
        Harness.Clock.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.Equal(Rejected(remaining: 0, retryAfterMs: 1, resetAfterMs: 1), await Acquire(policy));
        Harness.Clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(Admitted(remaining: 0, resetAfterMs: 2000), await Acquire(policy));
    }

    [Fact]
    public async Task A_rate_of_one_token_per_hour_refills_after_exactly_one_hour()
    {
        var policy = TestPolicies.Create(capacity: 2, rate: 1.0 / 3600);
        var hourMs = TimeSpan.FromHours(1).TotalMilliseconds;

        await Drain(policy, 2);
        Assert.Equal(Rejected(remaining: 0, retryAfterMs: hourMs, resetAfterMs: 2 * hourMs), await Acquire(policy));
        Harness.Clock.Advance(TimeSpan.FromHours(1) - TimeSpan.FromMicroseconds(1));
        Assert.False((await Acquire(policy)).IsAdmitted);
        Harness.Clock.Advance(TimeSpan.FromMicroseconds(1));
        Assert.Equal(Admitted(remaining: 0, resetAfterMs: 2 * hourMs), await Acquire(policy));
    }

    [Fact]
    public async Task A_capacity_of_one_billion_is_exact()
    {
        var policy = TestPolicies.Create(capacity: 1_000_000_000, rate: 1);
        var billionSeconds = TimeSpan.FromSeconds(1_000_000_000).TotalMilliseconds;

        Assert.Equal(Admitted(remaining: 999_999_999, resetAfterMs: 1000), await Acquire(policy));
        Assert.Equal(Admitted(remaining: 0, resetAfterMs: billionSeconds), await Acquire(policy.WithCost(999_999_999)));
        Assert.Equal(Rejected(remaining: 0, retryAfterMs: 1000, resetAfterMs: billionSeconds), await Acquire(policy));
        Harness.Clock.Advance(TimeSpan.FromDays(365 * 40)); // more than a billion tokens' worth: capped
        Assert.Equal(Admitted(remaining: 999_999_999, resetAfterMs: 1000), await Acquire(policy));
    }

    [Fact]
    public async Task A_clock_that_steps_backwards_adds_no_tokens_and_does_not_throw()
    {
        var policy = TestPolicies.Create(capacity: 10, rate: 0.5);
        await Drain(policy, 5);

        Harness.Clock.Advance(TimeSpan.FromSeconds(-20));
        var afterStep = await Acquire(policy);
        Assert.False(afterStep.IsAdmitted);
        Assert.Equal(0, afterStep.Remaining);

        // Once the clock is back where it was, the bucket is exactly where it was: nothing gained, nothing lost.
        Harness.Clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(Admitted(remaining: 4, resetAfterMs: 12000), await Acquire(policy));
    }

    [Fact]
    public async Task An_expired_bucket_behaves_as_a_full_bucket()
    {
        // Redis expires keys in real time while the fake clock stands still, so this bucket refills in a time that is
        // long enough to observe the key and short enough to wait for.
        var policy = TestPolicies.Create(capacity: 3, rate: 10);
        await Drain(policy, 3);
        Assert.False((await Acquire(policy)).IsAdmitted);
        Assert.True(await Harness.HoldsBucketAsync(policy, Key));

        Harness.Clock.Advance(TimeSpan.FromMilliseconds(300));
        await Harness.LetIdleBucketsExpireAsync(policy, Key);

        Assert.False(await Harness.HoldsBucketAsync(policy, Key));
        Assert.Equal(Admitted(remaining: 2, resetAfterMs: 100), await Acquire(policy));
    }

    [Fact]
    public async Task Different_keys_and_different_buckets_are_independent()
    {
        var policy = TestPolicies.Create(capacity: 2, rate: 1);
        var other = TestPolicies.Create(capacity: 2, rate: 1);
        await Drain(policy, 2);

        Assert.Equal(Admitted(remaining: 1, resetAfterMs: 1000), await Acquire(policy, "198.51.100.1"));
        Assert.Equal(Admitted(remaining: 1, resetAfterMs: 1000), await Acquire(other));
    }

    [Fact]
    public async Task Buckets_with_the_same_name_are_shared()
    {
        var policy = TestPolicies.Create(capacity: 4, rate: 1);
        var sameBucketDearer = policy.WithCost(2);

        Assert.Equal(Admitted(remaining: 3, resetAfterMs: 1000), await Acquire(policy));
        Assert.Equal(Admitted(remaining: 1, resetAfterMs: 3000), await Acquire(sameBucketDearer));
        Assert.Equal(Rejected(remaining: 1, retryAfterMs: 1000, resetAfterMs: 3000), await Acquire(sameBucketDearer));
    }

    private async Task Drain(TokenBucketPolicy policy, int times)
    {
        for (var i = 0; i < times; i++)
        {
            Assert.True((await Acquire(policy)).IsAdmitted, $"Request {i + 1} of {times} should have been admitted.");
        }
    }

    public void Dispose()
    {
        Harness.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class InMemoryStoreConformanceTests() : TokenBucketStoreConformanceTests(new InMemoryStoreHarness());

[Collection(RedisCollection.Name)]
public sealed class RedisStoreConformanceTests(RedisFixture redis) : TokenBucketStoreConformanceTests(new RedisStoreHarness(redis));
