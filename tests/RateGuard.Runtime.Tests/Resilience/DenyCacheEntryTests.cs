using Microsoft.Extensions.Time.Testing;
using RateGuard.Limiting;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.TestSupport;

namespace RateGuard.Runtime.Tests.Resilience;

/// <summary>What a remembered rejection answers, on a fake clock; <see cref="DenyCacheTests"/> covers it over Redis.</summary>
/// <remarks>Alone, because its concurrency test keeps both cores of a small machine busy for a moment.</remarks>
[Collection(TimingCollection.Name)]
public sealed class DenyCacheEntryTests
{
    private readonly FakeTimeProvider _time = new();

    // Capacity 10 at 5 per second: one token every 200 ms, two seconds from empty to full.
    private static readonly TokenBucketPolicy s_policy = new("deny", 10, 5);

    private static RateLimitDecision Rejection(long remaining, double retryMs, double resetMs) =>
        new(false, remaining, TimeSpan.FromMilliseconds(retryMs), TimeSpan.FromMilliseconds(resetMs));

    [Fact]
    public void A_remembered_rejection_answers_the_same_cost_with_the_time_left_and_the_bucket_s_own_reset()
    {
        var cache = new DenyCache(100, _time);
        cache.Learn(s_policy, "k", _time.GetTimestamp(), Rejection(remaining: 0, retryMs: 150, resetMs: 1950));

        _time.Advance(TimeSpan.FromMilliseconds(50));

        Assert.True(cache.TryReject(s_policy, "k", out var decision));
        Assert.False(decision.IsAdmitted);
        Assert.Equal(0, decision.Remaining);
        Assert.Equal(TimeSpan.FromMilliseconds(100), decision.RetryAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(1900), decision.ResetAfter);
    }

    [Fact]
    public void A_costlier_request_waits_one_interval_more_per_extra_token_as_redis_would_say()
    {
        var cache = new DenyCache(100, _time);
        cache.Learn(s_policy, "k", _time.GetTimestamp(), Rejection(remaining: 0, retryMs: 150, resetMs: 1950));

        Assert.True(cache.TryReject(s_policy.WithCost(3), "k", out var decision));
        Assert.Equal(TimeSpan.FromMilliseconds(150 + 2 * 200), decision.RetryAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(1950), decision.ResetAfter);
    }

    [Fact]
    public void A_cheaper_request_is_not_answered_from_the_cache()
    {
        var cache = new DenyCache(100, _time);
        cache.Learn(s_policy.WithCost(3), "k", _time.GetTimestamp(), Rejection(remaining: 2, retryMs: 150, resetMs: 1550));

        Assert.False(cache.TryReject(s_policy, "k", out _));
        Assert.True(cache.TryReject(s_policy.WithCost(3), "k", out _));
    }

    [Fact]
    public void A_request_costing_more_than_the_capacity_is_told_never_even_from_an_ordinary_entry()
    {
        var cache = new DenyCache(100, _time);
        cache.Learn(s_policy, "k", _time.GetTimestamp(), Rejection(remaining: 0, retryMs: 150, resetMs: 1950));

        Assert.True(cache.TryReject(s_policy.WithCost(11), "k", out var decision));
        Assert.False(decision.CanEverBeAdmitted);
    }

    [Fact]
    public void A_never_entry_reports_the_bucket_s_reset_not_how_long_the_cache_keeps_it()
    {
        var cache = new DenyCache(100, _time);
        var never = new RateLimitDecision(false, 10, RateLimitDecision.Never, TimeSpan.Zero); // a full bucket
        cache.Learn(s_policy.WithCost(11), "k", _time.GetTimestamp(), never);

        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.False(cache.TryReject(s_policy.WithCost(11), "k", out _)); // trusted for a second: one request asks Redis
        Assert.True(cache.TryReject(s_policy.WithCost(11), "k", out var decision));
        Assert.False(decision.CanEverBeAdmitted);
        Assert.Equal(TimeSpan.Zero, decision.ResetAfter);
        Assert.Equal(10, decision.Remaining);
    }

    [Fact]
    public void An_entry_ends_at_its_retry_after()
    {
        var cache = new DenyCache(100, _time);
        cache.Learn(s_policy, "k", _time.GetTimestamp(), Rejection(remaining: 0, retryMs: 150, resetMs: 1950));

        _time.Advance(TimeSpan.FromMilliseconds(150));

        Assert.False(cache.TryReject(s_policy, "k", out _));
    }

    [Fact]
    public async Task Its_count_matches_its_entries_after_concurrent_remembering_expiry_and_clearing()
    {
        // Real time, with retry-afters of a few microseconds, so entries expire while others are being written.
        const int capacity = 1_000;
        var cache = new DenyCache(capacity, TimeProvider.System);
        var rejection = Rejection(remaining: 0, retryMs: 0.005, resetMs: 1);
        // Two workers for a third of a second: enough interleavings, without starving timing tests running alongside.
        var stop = DateTime.UtcNow + TimeSpan.FromMilliseconds(300);
        var workers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            var i = 0;
            while (DateTime.UtcNow < stop)
            {
                var key = "k" + (i++ % 8);
                cache.Learn(s_policy, key, TimeProvider.System.GetTimestamp(), rejection);
                cache.TryReject(s_policy, key, out _);
                if (w == 0 && i % 500 == 0)
                {
                    cache.Clear();
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);

        // Whatever interleavings happened, a count that drifted would not come back to zero here. The race it guards
        // against is narrow, so this is a smoke test: it caught the drift of the old check-then-act code here, but a
        // pass does not prove its absence.
        // The count bounds the cache: one that drifted up would leave it full of nothing, refusing what it should keep.
        cache.Clear();
        var lasting = Rejection(remaining: 0, retryMs: 60_000, resetMs: 60_000);
        for (var i = 0; i < capacity; i++)
        {
            cache.Learn(s_policy, "after-" + i, TimeProvider.System.GetTimestamp(), lasting);
        }
        cache.Learn(s_policy, "one-too-many", TimeProvider.System.GetTimestamp(), lasting);
        Assert.All(Enumerable.Range(0, capacity), i => Assert.True(cache.TryReject(s_policy, "after-" + i, out _), $"entry {i} of {capacity} was not kept"));
        Assert.False(cache.TryReject(s_policy, "one-too-many", out _));
    }
}
