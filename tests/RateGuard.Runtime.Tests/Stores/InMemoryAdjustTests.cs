using Microsoft.Extensions.Time.Testing;
using RateGuard.Stores;

namespace RateGuard.Runtime.Tests.Stores;

/// <summary>
/// <see cref="InMemoryTokenBucketStore.Adjust"/>, what a request is charged or given back after its decision: a charge
/// takes the bucket to empty, or into debt when it may overdraw; a refund fills it back to full and never past it.
/// </summary>
public sealed class InMemoryAdjustTests : IDisposable
{
    // 10 tokens, one a second.
    private static readonly TokenBucketPolicy s_policy = new("adjusted", capacity: 10, rate: 1);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly InMemoryTokenBucketStore _store;

    public InMemoryAdjustTests()
    {
        _store = new InMemoryTokenBucketStore(_time);
    }

    public void Dispose() => _store.Dispose();

    [Fact]
    public void A_charge_takes_tokens_down_to_empty_and_below_it_only_when_it_may_overdraw()
    {
        Assert.True(_store.Acquire(s_policy, "ann").IsAdmitted);

        _store.Adjust(s_policy, "ann", 4, overdraw: false);
        Assert.Equal(5, _store.Peek(s_policy, "ann").Remaining);
        _store.Adjust(s_policy, "ann", 20, overdraw: false);
        Assert.Equal((0, TimeSpan.FromSeconds(10)), Peek("ann"));
        _store.Adjust(s_policy, "ann", 5, overdraw: true);
        Assert.Equal((0, TimeSpan.FromSeconds(15)), Peek("ann"));

        // In debt, a request waits for the debt and its own token.
        var refused = _store.Acquire(s_policy, "ann");
        Assert.False(refused.IsAdmitted);
        Assert.Equal(TimeSpan.FromSeconds(6), refused.RetryAfter);
    }

    [Fact]
    public void A_refund_pays_a_debt_back_and_fills_the_bucket_to_full_but_not_past_it()
    {
        _store.Adjust(s_policy, "bob", 15, overdraw: true);

        _store.Adjust(s_policy, "bob", -3, overdraw: false);
        Assert.Equal((0, TimeSpan.FromSeconds(12)), Peek("bob"));
        _store.Adjust(s_policy, "bob", -9, overdraw: false);
        Assert.Equal((7, TimeSpan.FromSeconds(3)), Peek("bob"));
        _store.Adjust(s_policy, "bob", -100, overdraw: false);
        Assert.Equal((10, TimeSpan.Zero), Peek("bob"));

        // Full means ten requests, not more.
        Assert.Equal(10, Enumerable.Range(0, 11).Count(_ => _store.Acquire(s_policy, "bob").IsAdmitted));
    }

    [Fact]
    public void A_refund_that_comes_after_the_bucket_refilled_banks_nothing()
    {
        Assert.True(_store.Acquire(s_policy, "cat").IsAdmitted);
        _time.Advance(TimeSpan.FromSeconds(5));

        _store.Adjust(s_policy, "cat", -1, overdraw: false);

        Assert.Equal((10, TimeSpan.Zero), Peek("cat"));
        Assert.Equal(10, Enumerable.Range(0, 11).Count(_ => _store.Acquire(s_policy, "cat").IsAdmitted));
    }

    [Fact]
    public void A_refund_to_a_bucket_the_store_does_not_hold_holds_none_and_a_charge_holds_one()
    {
        _store.Adjust(s_policy, "dan", -5, overdraw: false);
        Assert.Equal(0, _store.Count);

        _store.Adjust(s_policy, "dan", 2, overdraw: false);
        Assert.Equal(1, _store.Count);
        Assert.Equal((8, TimeSpan.FromSeconds(2)), Peek("dan"));
    }

    [Fact]
    public void A_charge_refills_with_time_like_any_other_and_the_swept_bucket_is_full()
    {
        _store.Adjust(s_policy, "eve", 12, overdraw: true);
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal((2, TimeSpan.FromSeconds(8)), Peek("eve"));

        _time.Advance(TimeSpan.FromSeconds(8) + InMemoryTokenBucketStore.DefaultSweepInterval);
        Assert.Equal(0, _store.Count);
        Assert.Equal((10, TimeSpan.Zero), Peek("eve"));
    }

    private (long Remaining, TimeSpan ResetAfter) Peek(string key)
    {
        var state = _store.Peek(s_policy, key);
        return (state.Remaining, state.ResetAfter);
    }
}
