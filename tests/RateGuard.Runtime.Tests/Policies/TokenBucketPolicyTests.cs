namespace RateGuard.Runtime.Tests.Policies;

public sealed class TokenBucketPolicyTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void A_capacity_below_one_throws_naming_capacity(int capacity)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucketPolicy("b", capacity, 1));
        Assert.Equal("capacity", e.ParamName);
        Assert.Equal(capacity, e.ActualValue);
        Assert.Contains($"was {capacity}", e.Message);
    }

    [Theory]
    [InlineData(0d)]
    [InlineData(-1d)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(1_000_001d)]
    public void A_rate_that_is_not_positive_finite_and_at_most_a_million_throws_naming_rate(double rate)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucketPolicy("b", 1, rate));
        Assert.Equal("rate", e.ParamName);
        Assert.Equal(rate, e.ActualValue);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void A_cost_below_one_throws_naming_cost(int cost)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucketPolicy("b", 1, 1, cost));
        Assert.Equal("cost", e.ParamName);
        Assert.Equal(cost, e.ActualValue);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has:colon")]
    [InlineData(" leading space")]
    [InlineData("tab\there")]
    [InlineData("ünï")]
    public void A_name_that_is_not_printable_ascii_without_a_colon_throws(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => new TokenBucketPolicy(name, 1, 1));
        Assert.Equal("name", e.ParamName);
    }

    [Fact]
    public void A_name_longer_than_the_maximum_throws() =>
        Assert.Throws<ArgumentException>(() => new TokenBucketPolicy(new string('n', TokenBucketPolicy.MaxNameLength + 1), 1, 1));

    [Theory]
    [InlineData(1, 1e-10)]
    [InlineData(1_000_000_000, 0.001)]
    [InlineData(int.MaxValue, 0.5)]
    public void A_bucket_that_would_take_over_a_hundred_years_to_fill_throws_naming_rate(int capacity, double rate)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucketPolicy("b", capacity, rate));
        Assert.Equal("rate", e.ParamName);
        Assert.Contains("100 years", e.Message);
    }

    [Fact]
    public void A_bucket_that_fills_within_a_hundred_years_is_accepted() =>
        Assert.Equal(3_153_600_000_000_000L, new TokenBucketPolicy("b", 100, 1.0 / (365 * 86_400)).WindowMicroseconds);

    [Theory]
    [InlineData(5d, 200_000L)]
    [InlineData(0.5d, 2_000_000L)]
    [InlineData(1d / 3600, 3_600_000_000L)]
    [InlineData(1_000_000d, 1L)]
    [InlineData(3d, 333_334L)] // rounded up: never looser than asked
    public void The_interval_is_whole_microseconds_per_token(double rate, long interval) =>
        Assert.Equal(interval, new TokenBucketPolicy("b", 1, rate).IntervalMicroseconds);
}
