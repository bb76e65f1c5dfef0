using RateGuard.Outcomes;

namespace RateGuard.Runtime.Tests.Outcomes;

/// <summary>
/// <see cref="TokenBucketCount.TryParse"/> and <see cref="OutcomeRule"/>: the forms a count takes, what each counts, and
/// the forms that are not counts.
/// </summary>
public sealed class CountParsingTests
{
    [Theory]
    [InlineData("all")]
    [InlineData("ALL")]
    [InlineData("  All ")]
    public void All_counts_every_response_and_needs_no_rule(string count)
    {
        Assert.True(TokenBucketCount.TryParse(count, out var counted));
        Assert.Null(counted);
        Assert.Null(OutcomeRule.Parse(count));
    }

    [Theory]
    [InlineData("failures")]
    [InlineData("Failures")]
    [InlineData(" FAILURES ")]
    public void Failures_count_every_status_from_400(string count)
    {
        var rule = OutcomeRule.Parse(count)!;

        Assert.Equal([400, 404, 429, 500, 599, 999], new[] { 100, 200, 204, 302, 399, 400, 404, 429, 500, 599, 999, 1000 }.Where(rule.Counts));
        Assert.Equal(count.Trim(), rule.Description);
    }

    [Theory]
    [InlineData("401,403,500-599")]
    [InlineData(" 401 , 403,500 - 599 ")]
    [InlineData("500-599,403,401")]
    [InlineData("401,401,403,500-550,540-599")]
    public void A_list_counts_the_codes_and_ranges_it_names(string count)
    {
        var rule = OutcomeRule.Parse(count)!;

        Assert.Equal([401, 403, 500, 501, 550, 599], new[] { 200, 400, 401, 402, 403, 404, 499, 500, 501, 550, 599, 600, 999 }.Where(rule.Counts));
    }

    [Theory]
    [InlineData("100", 100)]
    [InlineData("999", 999)]
    [InlineData("418-418", 418)]
    public void The_lowest_and_highest_codes_and_a_range_of_one_are_counts(string count, int status)
    {
        Assert.True(TokenBucketCount.TryParse(count, out var counted));
        Assert.Equal([status], Enumerable.Range(0, counted!.Length).Where(s => counted[s]));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("none")]
    [InlineData("failure")]
    [InlineData("4xx")]
    [InlineData("99")]
    [InlineData("1000")]
    [InlineData("0401")]
    [InlineData("+401")]
    [InlineData("-401")]
    [InlineData("401-")]
    [InlineData("401,")]
    [InlineData(",401")]
    [InlineData("401,,403")]
    [InlineData("401;403")]
    [InlineData("599-500")]
    [InlineData("500-599-600")]
    [InlineData("all,401")]
    [InlineData("failures,401")]
    public void Anything_else_is_not_a_count(string? count)
    {
        Assert.False(TokenBucketCount.TryParse(count, out var counted));
        Assert.Null(counted);
    }

    [Fact]
    public void A_count_that_is_not_one_is_refused_with_the_forms_there_are()
    {
        var refused = Assert.Throws<FormatException>(() => OutcomeRule.Parse("4xx"));

        Assert.Equal("Count '4xx' is invalid: a count says which responses the bucket counts: " + TokenBucketCount.ValidForms + ".", refused.Message);
    }

    [Fact]
    public void A_rule_of_the_apps_decides_each_status_and_is_described_by_its_type()
    {
        var rule = OutcomeRule.Of(new OnlyTeapots(), "Contoso.OnlyTeapots");

        Assert.Equal([418], new[] { 200, 418, 500 }.Where(rule.Counts));
        Assert.Equal("Contoso.OnlyTeapots", rule.Description);
    }

    private sealed class OnlyTeapots : ITokenBucketCountRule
    {
        public bool Counts(int statusCode) => statusCode == 418;
    }
}
