using static RateGuard.Generator.Tests.Infrastructure.AnalyzerHarness;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>RG0001-RG0003, RG0005, RG0006, RG0011, RG0012: the arguments of a limit, wherever it is written.</summary>
public sealed class ArgumentDiagnosticTests
{
    [Fact]
    public Task RG0001_capacity_below_one_is_an_error_at_the_capacity() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket({|RG0001:0|}, 5)] () => "a");
                app.MapGet("/b", [TokenBucket(capacity: {|RG0001:-3|}, rate: 5)] () => "b");
                app.MapGet("/c", () => "c").RequireTokenBucket({|RG0001:0|}, 1);
                app.MapGet("/d", () => "d").WithMetadata(new TokenBucketAttribute({|RG0001:Limits.None|}, 1));
        """) + "\npublic static class Limits { public const int None = 10 - 10; }");

    [Fact]
    public Task RG0001_is_silent_for_a_positive_capacity() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(1, 5)] () => "a");
                app.MapGet("/b", [TokenBucket(60 * 10, 5)] () => "b");
        """));

    [Fact]
    public Task RG0002_a_rate_that_is_not_positive_finite_and_at_most_a_million_is_an_error() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(10, {|RG0002:0|})] () => "a");
                app.MapGet("/b", [TokenBucket(10, {|RG0002:-1.5|})] () => "b");
                app.MapGet("/c", [TokenBucket(10, {|RG0002:double.NaN|})] () => "c");
                app.MapGet("/d", [TokenBucket(10, {|RG0002:double.PositiveInfinity|})] () => "d");
                app.MapGet("/e", [TokenBucket(10, {|RG0002:2e6|})] () => "e");
                app.MapGet("/f", () => "f").RequireTokenBucket(10, {|RG0002:0|});
        """));

    [Fact]
    public Task RG0002_a_bucket_that_would_take_over_a_hundred_years_to_fill_is_an_error_at_the_rate() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(1_000_000_000, {|RG0002:0.001|})] () => "a");
        """));

    [Fact]
    public Task RG0002_is_silent_for_fractional_and_slow_rates() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(10, 0.5)] () => "a");
                app.MapGet("/b", [TokenBucket(10, 1.0 / 3600)] () => "b");
                app.MapGet("/c", [TokenBucket(10, 1_000_000)] () => "c");
        """));

    private const string RateRule = "a rate is the tokens added per second: a number above 0 and at most 1,000,000, one token per microsecond";

    [Theory]
    [InlineData("10, 0", "Rate 0 is invalid: " + RateRule + "; for slow limits use a fraction such as 1.0 / 60 (one per minute), since 1 / 60 divides integers and is 0")]
    [InlineData("10, 1 / 60", "Rate 0 is invalid: " + RateRule + "; for slow limits use a fraction such as 1.0 / 60 (one per minute), since 1 / 60 divides integers and is 0")]
    [InlineData("10, -1.5", "Rate -1.5 is invalid: " + RateRule + "; use 1.5")]
    [InlineData("10, double.NegativeInfinity", "Rate -Infinity is invalid: " + RateRule)]
    [InlineData("10, double.NaN", "Rate NaN is invalid: " + RateRule + "; use one such as 5")]
    [InlineData("10, double.PositiveInfinity", "Rate Infinity is invalid: " + RateRule + ", the finest the stores keep; an endpoint that needs no limit should carry none")]
    [InlineData("10, 2e6", "Rate 2000000 is invalid: " + RateRule + ", the finest the stores keep; an endpoint that needs no limit should carry none")]
    [InlineData("1_000_000_000, 0.001", "Rate 0.001 is invalid: with a capacity of 1,000,000,000, an empty bucket must fill within 100 years (its capacity divided by its rate): raise the rate or lower the capacity")]
    public async Task RG0002_the_hint_fits_the_way_the_rate_is_wrong(string arguments, string expected)
    {
        var diagnostics = await AnalyzeAsync(Microsoft.CodeAnalysis.OutputKind.DynamicallyLinkedLibrary, Usings + Routes($"app.MapGet(\"/a\", [TokenBucket({arguments})] () => \"a\");"));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("RG0002", diagnostic.Id);
        Assert.Equal(expected, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task RG0003_an_unknown_or_malformed_key_is_an_error_at_the_key() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(10, 5, Key = {|RG0003:"cookie:session"|})] () => "a");
                app.MapGet("/b", [TokenBucket(10, 5, Key = {|RG0003:"header:"|})] () => "b");
                app.MapGet("/c", [TokenBucket(10, 5, Key = {|RG0003:"IP"|})] () => "c");
                app.MapGet("/d", [TokenBucket(10, 5, Key = {|RG0003:"header:X Api Key"|})] () => "d");
                app.MapGet("/e", () => "e").RequireTokenBucket(10, 5, key: {|RG0003:"usr"|});
        """));

    [Theory]
    [InlineData("0, 5", "RG0001", "Capacity 0 is invalid: " + LimitRules.Capacity)]
    [InlineData("10, 5, Cost = 0", "RG0005", "Cost 0 is invalid: " + LimitRules.Cost)]
    [InlineData("2, 5, Cost = 3", "RG0006", "Cost 3 is invalid with capacity 2: " + LimitRules.CostWithinCapacity)]
    [InlineData("10, 5, Bucket = \"a b\"", "RG0012", "Bucket name \"a b\" is invalid: " + LimitRules.DeclaredBucketName)]
    public async Task A_diagnostic_gives_the_rule_in_the_words_the_runtime_and_the_gateway_use(string arguments, string id, string expected)
    {
        var diagnostics = await AnalyzeAsync(Microsoft.CodeAnalysis.OutputKind.DynamicallyLinkedLibrary, Usings + Routes($"app.MapGet(\"/a\", [TokenBucket({arguments})] () => \"a\");"));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal((id, expected), (diagnostic.Id, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData("IP", "Key \"IP\" is not a valid token-bucket key: use \"ip\" (the valid forms are \"ip\", \"user\", \"global\", \"header:<Name>\", \"query:<name>\", \"route:<name>\" or \"claim:<type>\")", "ip")]
    [InlineData("cookie:session", "Key \"cookie:session\" is not a valid token-bucket key: use \"ip\", \"user\", \"global\", \"header:<Name>\", \"query:<name>\", \"route:<name>\" or \"claim:<type>\"", null)]
    public async Task RG0003_names_the_key_it_was_likely_meant_to_be_and_always_the_valid_forms(string key, string expected, string? suggestion)
    {
        var diagnostics = await AnalyzeAsync(Microsoft.CodeAnalysis.OutputKind.DynamicallyLinkedLibrary, Usings + Routes($"app.MapGet(\"/a\", [TokenBucket(10, 5, Key = \"{key}\")] () => \"a\");"));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("RG0003", diagnostic.Id);
        Assert.Equal(expected, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(suggestion, diagnostic.Properties.GetValueOrDefault("SuggestedKey"));
    }

    [Fact]
    public Task RG0003_is_silent_for_every_valid_key_kind() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(10, 5, Key = "ip")] () => "a");
                app.MapGet("/b", [TokenBucket(10, 5, Key = "global")] () => "b");
                app.MapGet("/c", [TokenBucket(10, 5, Key = "header:X-Api-Key")] () => "c");
                app.MapGet("/d", [TokenBucket(10, 5, Key = "query:page")] () => "d");
                app.MapGet("/e/{id}", [TokenBucket(10, 5, Key = "route:id")] (int id) => "e");
                app.MapGet("/f", [TokenBucket(10, 5, Key = "user")] () => "f").RequireAuthorization();
                app.MapGet("/g", [TokenBucket(10, 5, Key = "claim:tenant")] () => "g").RequireAuthorization();
        """));

    [Fact]
    public Task RG0005_a_cost_below_one_is_an_error_at_the_cost() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(10, 5, Cost = {|RG0005:0|})] () => "a");
                app.MapGet("/b", () => "b").RequireTokenBucket(10, 5, cost: {|RG0005:-1|});
        """));

    [Fact]
    public Task RG0006_a_cost_above_capacity_is_an_error_at_the_cost() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, Cost = {|RG0006:6|})] () => "a");
                app.MapGet("/b", () => "b").WithMetadata(new TokenBucketAttribute(2, 1) { Cost = {|RG0006:3|} });
        """));

    [Fact]
    public Task RG0005_and_RG0006_are_silent_for_a_cost_up_to_capacity() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, Cost = 5)] () => "a");
                app.MapGet("/b", [TokenBucket(5, 1, Cost = 1)] () => "b");
        """));

    [Fact]
    public Task RG0011_a_resolver_that_does_not_implement_the_interface_is_an_error() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, KeyResolver = {|RG0011:typeof(string)|})] () => "a");
                app.MapGet("/g", [TokenBucket(5, 1, KeyResolver = {|RG0011:typeof(GenericResolver<>)|})] () => "g");
                app.MapGet("/x", [TokenBucket(5, 1, KeyResolver = {|RG0011:typeof(AbstractResolver)|})] () => "x");
                app.MapGet("/b", [TokenBucket(5, 1, KeyResolver = typeof(GoodResolver))] () => "b");
        """) + """

        public sealed class GoodResolver : ITokenBucketKeyResolver
        {
            public string? ResolveKey(HttpContext context) => "k";
        }

        public sealed class GenericResolver<T> : ITokenBucketKeyResolver
        {
            public string? ResolveKey(HttpContext context) => typeof(T).Name;
        }

        public abstract class AbstractResolver : ITokenBucketKeyResolver
        {
            public abstract string? ResolveKey(HttpContext context);
        }
        """);

    [Fact]
    public Task RG0012_a_bucket_name_that_would_break_the_key_is_an_error() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, Bucket = {|RG0012:"orders:v2"|})] () => "a");
                app.MapGet("/b", [TokenBucket(5, 1, Bucket = {|RG0012:"has space"|})] () => "b");
                app.MapGet("/c", [TokenBucket(5, 1, Bucket = "orders.v2/list")] () => "c");
        """));

    [Fact]
    public Task Arguments_that_are_not_constants_are_left_to_the_runtime() => VerifyLibrary(Routes("""
        var capacity = int.Parse("0");
                app.MapGet("/a", () => "a").RequireTokenBucket(capacity, 1);
        """));
}
