using RateGuard.Generator.Parsing;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>The key RG0003 suggests, and its code fix writes, for an invalid one.</summary>
public sealed class KeySuggestionTests
{
    [Theory]
    [InlineData("IP", "ip")]
    [InlineData(" ip ", "ip")]
    [InlineData("User", "user")]
    [InlineData("usr", "user")]
    [InlineData("uesr", "user")]
    [InlineData("globl", "global")]
    [InlineData("claims:sub", "claim:sub")]
    [InlineData("Claim: tenant", "claim:tenant")]
    [InlineData("Header:X-Api-Key", "header:X-Api-Key")]
    [InlineData("headr:X-Api-Key", "header:X-Api-Key")]
    [InlineData("querry:page", "query:page")]
    [InlineData("rout:id", "route:id")]
    [InlineData("routes:id", "route:id")]
    public void An_invalid_key_near_one_valid_form_suggests_that_form(string key, string expected) =>
        Assert.Equal(expected, TokenBucketKeySuggestion.Suggest(key));

    [Theory]
    [InlineData(null)]
    [InlineData("id")]
    [InlineData("cookie:session")]
    [InlineData("header:")]
    [InlineData("claims:")]
    [InlineData("header:X Api Key")]
    [InlineData("hdr:X-Api-Key")]
    [InlineData("route:id.x")]
    public void An_invalid_key_with_no_one_right_edit_suggests_nothing(string? key) =>
        Assert.Null(TokenBucketKeySuggestion.Suggest(key));
}
