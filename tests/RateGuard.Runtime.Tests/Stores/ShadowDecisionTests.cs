using RateGuard.Stores;

namespace RateGuard.Runtime.Tests.Stores;

/// <summary>
/// <see cref="TokenBucketMath.DecideAll"/> and <see cref="TokenBucketMath.Decide"/> with buckets in shadow mode: a shadow
/// bucket that does not hold its cost does not reject the request, takes nothing, and is answered admitted with the wait
/// it would have given; the enforcing buckets decide as they would alone.
/// </summary>
public sealed class ShadowDecisionTests
{
    private const long Now = 1_700_000_000_000_000;
    private const long Token = 1_000_000;

    // Two tokens and five, one a second each.
    private static readonly TokenBucketPolicy s_small = new("small", capacity: 2, rate: 1);
    private static readonly TokenBucketPolicy s_large = new("large", capacity: 5, rate: 1);

    private static readonly long s_empty = Now + 2 * Token; // the small bucket, emptied
    private const long Full = 0;

    [Fact]
    public void An_empty_shadow_bucket_lets_the_request_through_takes_nothing_and_says_what_it_would_have_waited()
    {
        var (admitted, decisions, next) = Decide([s_small, s_large], [s_empty, Full], [true, false]);

        Assert.True(admitted);
        Assert.Equal(Decision(true, 0, retry: Token, reset: 2 * Token), decisions[0]);
        Assert.Equal(Decision(true, 4, retry: 0, reset: Token), decisions[1]);
        Assert.Equal([s_empty, Now + Token], next);
    }

    [Fact]
    public void The_same_buckets_enforced_reject_the_request_and_charge_neither()
    {
        var (admitted, decisions, _) = Decide([s_small, s_large], [s_empty, Full], [false, false]);
        var (withoutFlags, same, _) = Decide([s_small, s_large], [s_empty, Full], []);

        Assert.False(admitted);
        Assert.Equal(Decision(false, 0, retry: Token, reset: 2 * Token), decisions[0]);
        Assert.Equal(Decision(false, 5, retry: 0, reset: 0), decisions[1]);
        Assert.False(withoutFlags);
        Assert.Equal(decisions, same);
    }

    [Fact]
    public void An_enforcing_bucket_that_rejects_refuses_the_request_and_a_shadow_bucket_with_room_is_not_charged()
    {
        var (admitted, decisions, _) = Decide([s_small, s_large], [Full, Now + 5 * Token], [true, false]);

        Assert.False(admitted);
        Assert.Equal(Decision(false, 2, retry: 0, reset: 0), decisions[0]);
        Assert.Equal(Decision(false, 0, retry: Token, reset: 5 * Token), decisions[1]);
    }

    [Fact]
    public void Shadow_buckets_alone_never_reject_and_each_charges_only_if_it_holds_its_cost()
    {
        var (admitted, decisions, next) = Decide([s_small, s_large], [s_empty, Now + 3 * Token], [true, true]);

        Assert.True(admitted);
        Assert.Equal(Decision(true, 0, retry: Token, reset: 2 * Token), decisions[0]);
        Assert.Equal(Decision(true, 1, retry: 0, reset: 4 * Token), decisions[1]);
        Assert.Equal([s_empty, Now + 4 * Token], next);
    }

    [Fact]
    public void A_shadow_bucket_whose_cost_is_above_its_capacity_lets_the_request_through_and_says_it_never_would()
    {
        var costly = new TokenBucketPolicy("costly", capacity: 2, rate: 1, cost: 3);

        var (admitted, decisions, next) = Decide([costly, s_large], [Full, Full], [true, false]);

        Assert.True(admitted);
        Assert.Equal(Decision(true, 2, retry: -1, reset: 0), decisions[0]);
        Assert.False(decisions[0].CanEverBeAdmitted);
        Assert.Equal(Now, next[0]);
    }

    [Fact]
    public void A_bucket_named_twice_is_charged_once_when_its_second_appearance_only_watches()
    {
        // One token left: the first appearance takes it, the second (in shadow mode) finds none and takes nothing.
        long[] fullAt = [Now + Token, Now + Token];
        var decisions = new RateLimitDecision[2];
        var next = new long[2];

        var admitted = TokenBucketMath.DecideAll(fullAt, Now, [s_small, s_small], [-1, 0], decisions, next, [false, true]);

        Assert.True(admitted);
        Assert.Equal(Decision(true, 0, retry: 0, reset: 2 * Token), decisions[0]);
        Assert.Equal(Decision(true, 0, retry: Token, reset: 2 * Token), decisions[1]);
        Assert.Equal(Now + 2 * Token, next[1]);
    }

    [Fact]
    public void One_shadow_decision_admits_with_the_wait_and_charges_nothing_where_enforced_it_rejects()
    {
        var shadow = TokenBucketMath.Decide(s_empty, Now, s_small, out var shadowNext, shadow: true);
        var enforced = TokenBucketMath.Decide(s_empty, Now, s_small, out var enforcedNext);
        var room = TokenBucketMath.Decide(Full, Now, s_small, out var roomNext, shadow: true);

        Assert.Equal((Decision(true, 0, retry: Token, reset: 2 * Token), s_empty), (shadow, shadowNext));
        Assert.Equal((Decision(false, 0, retry: Token, reset: 2 * Token), s_empty), (enforced, enforcedNext));
        Assert.Equal((Decision(true, 1, retry: 0, reset: Token), Now + Token), (room, roomNext));
    }

    private static (bool Admitted, RateLimitDecision[] Decisions, long[] Next) Decide(TokenBucketPolicy[] policies, long[] fullAt, bool[] shadow)
    {
        var decisions = new RateLimitDecision[policies.Length];
        var next = new long[policies.Length];
        var earlier = Enumerable.Repeat(-1, policies.Length).ToArray();
        var admitted = TokenBucketMath.DecideAll(fullAt, Now, policies, earlier, decisions, next, shadow);
        return (admitted, decisions, next);
    }

    private static RateLimitDecision Decision(bool admitted, long remaining, long retry, long reset) =>
        RateLimitDecision.FromMicroseconds(admitted, remaining, retry, reset);
}
