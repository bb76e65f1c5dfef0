using RateGuard.Stores;

namespace RateGuard.Runtime.Tests.Stores;

/// <summary>
/// <see cref="TokenBucketMath.Owe"/>, the twin of the script's debts: a charge after the decision takes a bucket down to
/// empty, or below it into debt when it may overdraw; a refund fills it back up to full and never past it.
/// </summary>
public sealed class DebtMathTests
{
    // 10 tokens, one a second: a token is 1,000,000 µs, the whole bucket 10,000,000.
    private static readonly TokenBucketPolicy s_policy = new("b", capacity: 10, rate: 1);
    private const long Now = 1_700_000_000_000_000;
    private const long Token = 1_000_000;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_charge_within_the_bucket_takes_its_tokens_whether_or_not_it_may_overdraw(bool overdraw)
    {
        Assert.Equal(Now + 3 * Token, TokenBucketMath.Owe(Now, Now, s_policy, 3, overdraw));
        // A bucket stored as full long ago is full now, not fuller.
        Assert.Equal(Now + 3 * Token, TokenBucketMath.Owe(Now - 50 * Token, Now, s_policy, 3, overdraw));
        Assert.Equal(Now + 10 * Token, TokenBucketMath.Owe(Now + 4 * Token, Now, s_policy, 6, overdraw));
    }

    [Fact]
    public void A_charge_past_empty_stops_at_empty_unless_it_may_overdraw()
    {
        Assert.Equal(Now + 10 * Token, TokenBucketMath.Owe(Now + 4 * Token, Now, s_policy, 15, overdraw: false));
        // Overdrawn: 9 tokens below empty, full again in 19 s.
        Assert.Equal(Now + 19 * Token, TokenBucketMath.Owe(Now + 4 * Token, Now, s_policy, 15, overdraw: true));
        // And a bucket already in debt goes further into it.
        Assert.Equal(Now + 24 * Token, TokenBucketMath.Owe(Now + 19 * Token, Now, s_policy, 5, overdraw: true));
    }

    [Fact]
    public void A_debt_is_never_longer_than_a_hundred_years_of_refill()
    {
        // A token every 1,000 s: the largest charge is some 68,000 years of refill.
        var slow = new TokenBucketPolicy("slow", capacity: 10, rate: 0.001);
        Assert.Equal(Now + TokenBucketMath.LongestDebt, TokenBucketMath.Owe(Now, Now, slow, int.MaxValue, overdraw: true));
        Assert.Equal(Now + TokenBucketMath.LongestDebt, TokenBucketMath.Owe(Now + TokenBucketMath.LongestDebt, Now, slow, 1, overdraw: true));
        Assert.Equal(3_155_760_000_000_000, TokenBucketMath.LongestDebt);
    }

    [Fact]
    public void A_bucket_the_clock_left_beyond_empty_is_not_moved_back_by_a_charge_that_may_not_overdraw()
    {
        // A clock that stepped back leaves the bucket more than a window ahead: a charge leaves it where it is.
        Assert.Equal(Now + 30 * Token, TokenBucketMath.Owe(Now + 30 * Token, Now, s_policy, 2, overdraw: false));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_refund_gives_tokens_back_up_to_full_and_never_past_it(bool overdraw)
    {
        Assert.Equal(Now + 2 * Token, TokenBucketMath.Owe(Now + 5 * Token, Now, s_policy, -3, overdraw));
        Assert.Equal(Now, TokenBucketMath.Owe(Now + 5 * Token, Now, s_policy, -8, overdraw));
        // A full bucket stays full: a refund does not bank tokens for later.
        Assert.Equal(Now, TokenBucketMath.Owe(Now - 20 * Token, Now, s_policy, -1, overdraw));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_refund_to_a_bucket_in_debt_pays_part_of_the_debt_back(bool overdraw)
    {
        // 5 tokens below empty, 3 given back: 2 below empty. A refund is a refund whether or not the request's charges
        // could overdraw: the debt may be another request's.
        Assert.Equal(Now + 12 * Token, TokenBucketMath.Owe(Now + 15 * Token, Now, s_policy, -3, overdraw));
        Assert.Equal(Now + 4 * Token, TokenBucketMath.Owe(Now + 15 * Token, Now, s_policy, -11, overdraw));
        Assert.Equal(Now, TokenBucketMath.Owe(Now + 15 * Token, Now, s_policy, -30, overdraw));
    }

    [Fact]
    public void Nothing_owed_leaves_the_bucket_as_it_is()
    {
        Assert.Equal(Now + 5 * Token, TokenBucketMath.Owe(Now + 5 * Token, Now, s_policy, 0, overdraw: false));
        Assert.Equal(Now, TokenBucketMath.Owe(Now - Token, Now, s_policy, 0, overdraw: true));
    }
}
