using Microsoft.Extensions.Logging.Testing;
using RateGuard.Outcomes;

namespace RateGuard.Runtime.Tests.Outcomes;

/// <summary>
/// <see cref="ChargeChecks"/>: what a handler's report must respect. In development a report that breaks a rule throws and
/// names it; elsewhere it is clamped, and logged at most once a minute per bucket.
/// </summary>
public sealed class ChargeChecksTests
{
    private readonly FakeLogger _logger = new();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_report_that_is_finite_and_not_negative_is_kept_as_it_is(bool development)
    {
        var checks = new ChargeChecks(development, _logger);

        Assert.Equal([0, 0.5, 80, 1e9], new[] { 0, 0.5, 80, 1e9 }.Select(t => checks.Checked("b", t)));
        Assert.Empty(_logger.Collector.GetSnapshot());
    }

    [Theory]
    [InlineData(double.NaN, "a cost is a number")]
    [InlineData(-1, "a cost is finite and not negative")]
    [InlineData(-0.001, "a cost is finite and not negative")]
    [InlineData(double.PositiveInfinity, "a cost is finite and not negative")]
    [InlineData(double.NegativeInfinity, "a cost is finite and not negative")]
    public void In_development_a_report_that_is_no_cost_throws_naming_the_bucket_and_the_rule(double tokens, string rule)
    {
        var checks = new ChargeChecks(development: true, _logger);

        var thrown = Assert.Throws<ArgumentOutOfRangeException>(() => checks.Checked("search", tokens));

        Assert.Equal("tokens", thrown.ParamName);
        Assert.StartsWith($"Bucket 'search': a request cannot be charged {tokens.ToString(System.Globalization.CultureInfo.InvariantCulture)} tokens: {rule}.", thrown.Message);
        Assert.Empty(_logger.Collector.GetSnapshot());
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-5)]
    [InlineData(double.PositiveInfinity)]
    public void Elsewhere_a_report_that_is_no_cost_counts_as_0_and_is_logged(double tokens)
    {
        var checks = new ChargeChecks(development: false, _logger);

        Assert.Equal(0, checks.Checked("search", tokens));

        var logged = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal("ChargeClamped", logged.Id.Name);
        Assert.Contains("bucket 'search'", logged.Message);
        Assert.Contains("so the report counts as 0", logged.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_total_is_charged_in_whole_tokens_rounded_up_up_to_the_maximum(bool development)
    {
        var checks = new ChargeChecks(development, _logger);

        Assert.Equal([0L, 1, 1, 3, 100], new[] { 0, 0.001, 1, 2.1, 100 }.Select(t => checks.Bounded("b", t, maxCost: 100)));
        Assert.Empty(_logger.Collector.GetSnapshot());
    }

    [Fact]
    public void In_development_a_total_above_the_maximum_throws_naming_it()
    {
        var checks = new ChargeChecks(development: true, _logger);

        var thrown = Assert.Throws<ArgumentOutOfRangeException>(() => checks.Bounded("search", 100.5, maxCost: 100));

        Assert.StartsWith("Bucket 'search': a request cannot be charged 100.5 tokens; its limit allows at most 100 (MaxCost).", thrown.Message);
    }

    [Fact]
    public void Elsewhere_a_total_above_the_maximum_is_charged_the_maximum_and_logged_once_a_minute_per_bucket()
    {
        var checks = new ChargeChecks(development: false, _logger);

        Assert.Equal(100, checks.Bounded("search", 5000, maxCost: 100));
        Assert.Equal(100, checks.Bounded("search", 7000, maxCost: 100));
        Assert.Equal(0, checks.Checked("search", -1));
        Assert.Equal(10, checks.Bounded("export", 11, maxCost: 10));

        var logged = _logger.Collector.GetSnapshot();
        Assert.Equal(["search", "export"], logged.Select(l => l.Message.Split('\'')[1]));
        Assert.Equal("A request to bucket 'search' reported a cost of 5000 tokens; 100 were charged: the limit allows at most 100 per request (MaxCost). Logged at most once a minute per bucket.", logged[0].Message);
        Assert.All(logged, l => Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, l.Level));
    }
}
