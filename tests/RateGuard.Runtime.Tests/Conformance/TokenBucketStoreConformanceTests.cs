using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using RateGuard.TestSupport;

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
    public async Task Several_buckets_admit_a_request_only_together_and_a_rejection_takes_nothing_from_any()
    {
        var wide = TestPolicies.Create(capacity: 10, rate: 0.5);
        var narrow = TestPolicies.Create(capacity: 2, rate: 0.5);
        TokenBucketPolicy[] both = [wide, narrow];
        string[] keys = [Key, "client"];

        AssertAll(true, [Admitted(9, 2000), Admitted(1, 2000)], await AcquireAll(both, keys));
        AssertAll(true, [Admitted(8, 4000), Admitted(0, 4000)], await AcquireAll(both, keys));
        // The narrow bucket rejects: the wide one still holds 8 and says it had room (no wait of its own).
        AssertAll(false, [Rejected(8, 0, 4000), Rejected(0, 2000, 4000)], await AcquireAll(both, keys));
        Assert.Equal(Admitted(remaining: 7, resetAfterMs: 6000), await Acquire(wide, Key));
        Harness.Clock.Advance(TimeSpan.FromMilliseconds(2000)); // one token for each
        AssertAll(true, [Admitted(7, 6000), Admitted(0, 4000)], await AcquireAll(both, keys));
    }

    [Fact]
    public async Task Every_rejecting_bucket_reports_its_own_wait_and_never_when_the_cost_exceeds_it()
    {
        var slow = TestPolicies.Create(capacity: 3, rate: 0.25, cost: 3);
        var fast = TestPolicies.Create(capacity: 3, rate: 1, cost: 3);
        var small = TestPolicies.Create(capacity: 2, rate: 1, cost: 3);
        AssertAll(true, [Admitted(0, 12000), Admitted(0, 3000)], await AcquireAll([slow, fast], [Key, Key]));

        var (admitted, decisions) = await AcquireAll([slow, fast, small], [Key, Key, Key]);

        Assert.False(admitted);
        Assert.Equal([Rejected(0, 12000, 12000), Rejected(0, 3000, 3000), new RateLimitDecision(false, 2, RateLimitDecision.Never, TimeSpan.Zero)], decisions);
    }

    [Fact]
    public async Task The_same_bucket_twice_in_one_request_is_charged_twice_or_not_at_all()
    {
        var policy = TestPolicies.Create(capacity: 3, rate: 0.5);

        AssertAll(true, [Admitted(2, 2000), Admitted(1, 4000)], await AcquireAll([policy, policy], [Key, Key]));
        // Rejected: each bucket as it is left, with the wait for what the request asks of it, its first cost included.
        AssertAll(false, [Rejected(1, 0, 4000), Rejected(1, 2000, 4000)], await AcquireAll([policy, policy], [Key, Key]));
        Assert.Equal(Admitted(remaining: 0, resetAfterMs: 6000), await Acquire(policy));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_requests_on_one_to_four_buckets_match_a_reference_model(int seed)
    {
        var random = new Random(seed);
        var policies = new[]
        {
            TestPolicies.Create(capacity: 5, rate: 2),
            TestPolicies.Create(capacity: 3, rate: 1),
            TestPolicies.Create(capacity: 8, rate: 0.5),
            TestPolicies.Create(capacity: 2, rate: 4),
        };
        var model = policies.Select(p => new ReferenceBucket(p.Capacity * p.IntervalMicroseconds)).ToArray();
        for (var step = 0; step < 150; step++)
        {
            Harness.Clock.Advance(TimeSpan.FromMicroseconds(random.Next(0, 400_000)));
            var now = UnixClock.NowMicroseconds(Harness.Clock);
            var chosen = Enumerable.Range(0, policies.Length).OrderBy(_ => random.Next()).Take(random.Next(1, policies.Length + 1)).ToArray();
            var request = chosen.Select(i => policies[i].WithCost(random.Next(1, 4))).ToArray();

            var expected = ReferenceBucket.Decide(chosen.Select(i => model[i]).ToArray(), request, now);
            var actual = await AcquireAll(request, chosen.Select(_ => Key).ToArray());

            Assert.True(expected.Item1 == actual.Item1 && expected.Item2.SequenceEqual(actual.Item2),
                $"step {step}, buckets {string.Join(",", chosen)}: expected {expected.Item1} {string.Join("; ", expected.Item2)}, got {actual.Item1} {string.Join("; ", actual.Item2)}");
        }
    }

    /// <summary>
    /// A token bucket kept the other way round from the stores: as the credit it holds, in microseconds of refill
    /// (a full bucket holds its window), brought up to date at each request and never above the window.
    /// </summary>
    private sealed class ReferenceBucket
    {
        private readonly long _window;
        private long _credit;
        private long _at = long.MinValue;

        public ReferenceBucket(long window)
        {
            _window = window;
            _credit = window;
        }

        public static (bool, RateLimitDecision[]) Decide(ReferenceBucket[] buckets, TokenBucketPolicy[] request, long now)
        {
            var admitted = true;
            for (var i = 0; i < buckets.Length; i++)
            {
                buckets[i].Refill(now);
                admitted &= request[i].Cost <= request[i].Capacity && buckets[i]._credit >= request[i].Cost * request[i].IntervalMicroseconds;
            }
            var decisions = new RateLimitDecision[buckets.Length];
            for (var i = 0; i < buckets.Length; i++)
            {
                var bucket = buckets[i];
                var policy = request[i];
                var need = policy.Cost * policy.IntervalMicroseconds;
                if (admitted)
                {
                    bucket._credit -= need;
                }
                var retry = admitted ? 0 : policy.Cost > policy.Capacity ? -1 : Math.Max(0, need - bucket._credit);
                decisions[i] = RateLimitDecision.FromMicroseconds(admitted, bucket._credit / policy.IntervalMicroseconds, retry, window(policy) - bucket._credit);
            }
            return (admitted, decisions);

            static long window(TokenBucketPolicy policy) => policy.Capacity * policy.IntervalMicroseconds;
        }

        private void Refill(long now)
        {
            if (_at != long.MinValue)
            {
                _credit = Math.Min(_window, _credit + (now - _at));
            }
            _at = now;
        }
    }

    private static void AssertAll(bool admitted, RateLimitDecision[] expected, (bool Admitted, RateLimitDecision[] Decisions) actual)
    {
        Assert.Equal(admitted, actual.Admitted);
        Assert.Equal(expected, actual.Decisions);
    }

    private async Task<(bool, RateLimitDecision[])> AcquireAll(TokenBucketPolicy[] policies, string[] keys)
    {
        var (admitted, decisions) = await Harness.AcquireAllAsync(policies, keys);
        return (admitted, decisions);
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
