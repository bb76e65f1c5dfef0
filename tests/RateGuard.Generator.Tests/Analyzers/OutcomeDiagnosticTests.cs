using System.Globalization;
using Microsoft.CodeAnalysis;
using static RateGuard.Generator.Tests.Infrastructure.AnalyzerHarness;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>
/// A limit that counts only some responses, or lets its handler charge the actual cost after the fact, on every form a
/// limit takes: a count the runtime cannot read (RG0023), a count rule that is no concrete <c>ITokenBucketCountRule</c>
/// (RG0024), a maximum cost that is negative, below the cost or not paid back within the window (RG0025), and any of
/// them beside a limit's name (RG0018).
/// </summary>
public sealed class OutcomeDiagnosticTests
{
    private const string Rules = """

        public sealed class FailuresOnly : ITokenBucketCountRule
        {
            public bool Counts(int statusCode) => statusCode >= 400;
        }

        public sealed class InjectedRule(System.TimeProvider time) : ITokenBucketCountRule
        {
            public bool Counts(int statusCode) => time.GetUtcNow().Hour < 12 && statusCode >= 500;
        }

        public sealed class GenericRule<T> : ITokenBucketCountRule
        {
            public bool Counts(int statusCode) => typeof(T).Name.Length == statusCode;
        }

        public abstract class AbstractRule : ITokenBucketCountRule
        {
            public abstract bool Counts(int statusCode);
        }

        public sealed class ApiKeyPlans : ITokenBucketPlanResolver
        {
            public string? ResolvePlan(HttpContext context, string key) => null;
        }

        public static class Counts
        {
            public const string ServerErrors = "500-" + "1000";
            public const string Denials = "401," + "403";
        }
        """;

    [Fact]
    public Task RG0023_a_count_the_runtime_cannot_read_is_an_error_on_every_form() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1, Count = {|RG0023:"5xx"|})]

        """ + Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, Count = {|RG0023:"failure"|})] () => "a");
                app.MapGet("/b", () => "b").WithMetadata(new TokenBucketAttribute(5, 1) { Count = {|RG0023:"99"|} });
                app.MapGet("/c", () => "c").RequireTokenBucket(5, 1, count: {|RG0023:"500-499"|});
                app.MapGroup("/d").RequireTokenBucket(5, 1, count: {|RG0023:""|});
                app.MapGet("/e", [TokenBucket(5, 1, Count = {|RG0023:Counts.ServerErrors|})] () => "e");
                app.MapGet("/f", () => "f").RequireTokenBucket(5, 1, "ip", 1, null, false, null, {|RG0023:"401;403"|});
                app.MapPost("/g", [TokenBucket("writes")] () => "g");
        """) + Rules + """

        [ApiController]
        [Route("h")]
        [TokenBucket(5, 1, Count = {|RG0023:"all,500"|})]
        public sealed class HController : ControllerBase
        {
            [HttpGet]
            [TokenBucket(5, 1, Count = {|RG0023:"1000"|})]
            public string Get() => "h";
        }
        """);

    [Fact]
    public Task RG0023_is_silent_for_every_valid_count_no_count_a_count_rule_and_a_count_not_known_at_build() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1, Count = "failures")]

        """ + Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, Count = "all")] () => "a");
                app.MapGet("/b", [TokenBucket(5, 1, Count = " Failures ")] () => "b");
                app.MapGet("/c", () => "c").RequireTokenBucket(5, 1, count: "401, 403 ,500-599");
                app.MapGet("/d", () => "d").WithMetadata(new TokenBucketAttribute(5, 1) { Count = "100-999" });
                app.MapGet("/e", [TokenBucket(5, 1, Count = null)] () => "e");
                app.MapGet("/f", () => "f").RequireTokenBucket(5, 1, count: null);
                app.MapGet("/g", [TokenBucket(5, 1, Count = "5xx", CountRule = typeof(FailuresOnly))] () => "g");
                app.MapGet("/h", [TokenBucket(5, 1, Count = Counts.Denials)] () => "h");
                var count = System.Environment.GetEnvironmentVariable("COUNT");
                app.MapGet("/i", () => "i").RequireTokenBucket(5, 1, count: count);
                app.MapGet("/j", () => "j").RequireTokenBucket(5, 1, "ip", 1, null, false, null, "429");
        """) + Rules);

    [Fact]
    public async Task RG0023_names_the_count_and_the_forms_a_count_takes()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + Routes("""app.MapGet("/a", () => "a").RequireTokenBucket(5, 1, count: "5xx");"""));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(
            ("RG0023", "Count \"5xx\" is invalid: " + LimitRules.Count),
            (diagnostic.Id, diagnostic.GetMessage(CultureInfo.InvariantCulture)));
        Assert.Equal(
            "Count \"5xx\" is invalid: a count says which responses the bucket counts: \"all\", \"failures\", or status codes and ranges such as \"401,403,500-599\" (each from 100 to 999)",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task RG0024_a_count_rule_that_is_not_a_concrete_ITokenBucketCountRule_is_an_error() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1, CountRule = {|RG0024:typeof(ApiKeyPlans)|})]
        [assembly: TokenBucketLimit("reads", 10, 1, CountRule = typeof(FailuresOnly))]

        """ + Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, CountRule = {|RG0024:typeof(string)|})] () => "a");
                app.MapGet("/b", [TokenBucket(5, 1, CountRule = {|RG0024:typeof(GenericRule<>)|})] () => "b");
                app.MapGet("/c", [TokenBucket(5, 1, CountRule = {|RG0024:typeof(AbstractRule)|})] () => "c");
                app.MapGet("/d", () => "d").WithMetadata(new TokenBucketAttribute(5, 1) { CountRule = {|RG0024:typeof(ITokenBucketCountRule)|} });
                app.MapGet("/e", [TokenBucket(5, 1, CountRule = typeof(FailuresOnly))] () => "e");
                app.MapGet("/f", [TokenBucket(5, 1, CountRule = typeof(GenericRule<int>))] () => "f");
                app.MapGet("/g", () => "g").WithMetadata(new TokenBucketAttribute(5, 1) { CountRule = typeof(InjectedRule) });
                app.MapGet("/h", [TokenBucket(5, 1, CountRule = null)] () => "h");
        """) + Rules + """

        [ApiController]
        [Route("i")]
        [TokenBucket(5, 1, CountRule = {|RG0024:typeof(ApiKeyPlans)|})]
        public sealed class IController : ControllerBase
        {
            [HttpGet]
            public string Get() => "i";
        }
        """);

    [Fact]
    public async Task RG0024_names_the_type_and_the_interface()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + Routes("""app.MapGet("/a", [TokenBucket(5, 1, CountRule = typeof(ApiKeyPlans))] () => "a");""") + Rules);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(
            ("RG0024", "Count rule ApiKeyPlans is not a concrete, closed type implementing RateGuard.ITokenBucketCountRule: implement the interface on a non-abstract, non-generic class, or list the responses that count with Count"),
            (diagnostic.Id, diagnostic.GetMessage(CultureInfo.InvariantCulture)));
    }

    [Fact]
    public Task RG0025_a_negative_maximum_cost_one_below_the_cost_or_one_not_paid_back_within_the_window_is_an_error_on_every_form() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1, MaxCost = {|RG0025:-1|})]
        [assembly: TokenBucketLimit("bulk", 10, 1, Cost = 5, MaxCost = {|RG0025:4|})]

        """ + Routes("""
        app.MapGet("/a", [TokenBucket(10, 1, Cost = 3, MaxCost = {|RG0025:2|})] () => "a");
                app.MapGet("/b", () => "b").WithMetadata(new TokenBucketAttribute(5, 1) { Cost = 2, MaxCost = {|RG0025:1|} });
                app.MapGet("/c", () => "c").RequireTokenBucket(5, 1, maxCost: {|RG0025:-5|});
                app.MapGroup("/d").RequireTokenBucket(5, 1, cost: 2, maxCost: {|RG0025:1|});
                app.MapGet("/e", () => "e").RequireTokenBucket(5, 1, "ip", 4, null, false, null, null, {|RG0025:3|});
                app.MapGet("/f", [TokenBucket(10, 0.5, MaxCost = {|RG0025:int.MaxValue|})] () => "f");
                app.MapGet("/g", [TokenBucket(10, 1.0 / 60, MaxCost = {|RG0025:Charges.Most|})] () => "g");
        """) + """

        public static class Charges { public const int Most = 60_000_000; }

        [ApiController]
        [Route("h")]
        [TokenBucket(5, 1, MaxCost = {|RG0025:int.MinValue|})]
        public sealed class HController : ControllerBase
        {
            [HttpGet]
            [TokenBucket(5, 1, Cost = 5, MaxCost = {|RG0025:4|})]
            public string Get() => "h";
        }
        """);

    [Fact]
    public Task RG0025_is_silent_for_no_maximum_one_at_or_above_the_cost_and_a_cost_or_rate_it_cannot_be_held_against() => VerifyLibrary("""
        [assembly: TokenBucketLimit("bulk", 10, 1, Cost = 5, MaxCost = 5)]

        """ + Routes("""
        app.MapGet("/a", [TokenBucket(10, 1, MaxCost = 0)] () => "a");
                app.MapGet("/b", [TokenBucket(10, 1, Cost = 3, MaxCost = 3)] () => "b");
                app.MapGet("/c", [TokenBucket(10, 1, MaxCost = 1_000)] () => "c");
                app.MapGet("/d", [TokenBucket(10, 1, MaxCost = int.MaxValue)] () => "d");
                app.MapGet("/e", () => "e").RequireTokenBucket(5, 1, maxCost: 50);
                var cost = int.Parse("2");
                app.MapGet("/f", () => "f").RequireTokenBucket(5, 1, cost: cost, maxCost: 1);
                var rate = double.Parse("0.5");
                app.MapGet("/g", () => "g").RequireTokenBucket(5, rate, maxCost: int.MaxValue);
                app.MapGet("/h", [TokenBucket(10, {|RG0002:0|}, MaxCost = int.MaxValue)] () => "h");
                app.MapGet("/i", [TokenBucket(10, 1, Cost = {|RG0005:0|}, MaxCost = 1)] () => "i");
                var maxCost = int.Parse("-1");
                app.MapGet("/j", () => "j").RequireTokenBucket(5, 1, maxCost: maxCost);
        """));

    [Theory]
    [InlineData("Cost = 2, MaxCost = -1", "MaxCost -1 is invalid: ")]
    [InlineData("Cost = 3, MaxCost = 2", "MaxCost 2 is invalid with a cost of 3: ")]
    [InlineData("MaxCost = 60_000_000", "MaxCost 60000000 is invalid at a rate of 0.016666666666666666: ")]
    public async Task RG0025_says_what_the_maximum_cost_breaks_and_gives_the_rule(string arguments, string expected)
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + Routes($"app.MapGet(\"/a\", [TokenBucket(10, 1.0 / 60, {arguments})] () => \"a\");"));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(("RG0025", expected + LimitRules.MaxCost), (diagnostic.Id, diagnostic.GetMessage(CultureInfo.InvariantCulture)));
    }

    [Fact]
    public Task RG0018_a_count_a_count_rule_or_a_maximum_cost_beside_a_limits_name_is_an_error() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1, Count = "failures", MaxCost = 5)]

        """ + Routes("""
        app.MapPost("/a", [TokenBucket("writes", Count = {|RG0018:"failures"|})] () => "a");
                app.MapPost("/b", () => "b").WithMetadata(new TokenBucketAttribute("writes") { CountRule = {|RG0018:typeof(FailuresOnly)|}, MaxCost = {|RG0018:10|} });
                app.MapPost("/c", [TokenBucket("writes")] () => "c");
                app.MapPost("/d", () => "d").RequireTokenBucket("writes");
        """) + Rules + """

        [ApiController, Route("e")]
        [TokenBucket("writes", MaxCost = {|RG0018:5|}, Count = {|RG0018:"5xx"|}, CountRule = {|RG0018:typeof(string)|})]
        public sealed class EController : ControllerBase
        {
            [HttpPost]
            public string Post() => "e";
        }
        """);

    [Fact]
    public async Task RG0018_names_the_setting_a_use_by_name_may_not_give()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + """
            [assembly: TokenBucketLimit("writes", 10, 1)]

            """ + Routes("""app.MapPost("/a", [TokenBucket("writes", Count = "failures", MaxCost = 4)] () => "a");"""));

        Assert.Equal([
            "Limit \"writes\" is used by name, so Count cannot be set here: " + LimitRules.NamedLimitAlone,
            "Limit \"writes\" is used by name, so MaxCost cannot be set here: " + LimitRules.NamedLimitAlone,
        ], diagnostics.OrderBy(d => d.Location.SourceSpan.Start).Select(d => d.GetMessage(CultureInfo.InvariantCulture)));
    }
}
