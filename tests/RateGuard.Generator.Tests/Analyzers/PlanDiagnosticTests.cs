using System.Globalization;
using Microsoft.CodeAnalysis;
using static RateGuard.Generator.Tests.Infrastructure.AnalyzerHarness;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>
/// A limit that reads the caller's plan, on every form a limit takes: the plan source's form (RG0019), a route plan the
/// route lacks (RG0004), a claim plan anonymous callers reach (RG0022), a plan resolver that is no concrete
/// <c>ITokenBucketPlanResolver</c> (RG0020), and a plan beside a limit's name (RG0018).
/// </summary>
public sealed class PlanDiagnosticTests
{
    private const string Resolvers = """

        public sealed class ApiKeyPlans : ITokenBucketPlanResolver
        {
            public string? ResolvePlan(HttpContext context, string key) => key == "k" ? "pro" : null;
        }

        public sealed class GenericPlans<T> : ITokenBucketPlanResolver
        {
            public string? ResolvePlan(HttpContext context, string key) => typeof(T).Name;
        }

        public abstract class AbstractPlans : ITokenBucketPlanResolver
        {
            public abstract string? ResolvePlan(HttpContext context, string key);
        }

        public sealed class KeyOnly : ITokenBucketKeyResolver
        {
            public string? ResolveKey(HttpContext context) => "k";
        }
        """;

    [Fact]
    public Task RG0019_an_invalid_plan_source_is_an_error_on_every_form() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1, Plan = {|RG0019:"cookie:plan"|})]

        """ + Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, Plan = {|RG0019:"user"|})] () => "a");
                app.MapGet("/b", () => "b").WithMetadata(new TokenBucketAttribute(5, 1) { Plan = {|RG0019:"ip"|} });
                app.MapGroup("/c").WithMetadata(new TokenBucketAttribute(5, 1) { Plan = {|RG0019:"global"|} });
                app.MapGet("/d", () => "d").RequireTokenBucket(5, 1, plan: {|RG0019:"header:"|});
                app.MapGroup("/e").RequireTokenBucket(5, 1, plan: {|RG0019:"claims:plan"|});
                app.MapGet("/f", [TokenBucket(5, 1, Plan = {|RG0019:Plans.Source|})] () => "f");
        """) + """

        public static class Plans { public const string Source = "Header:X-Plan"; }

        [ApiController]
        [Route("g")]
        [TokenBucket(5, 1, Plan = {|RG0019:"plan"|})]
        public sealed class GController : ControllerBase
        {
            [HttpGet]
            [TokenBucket(5, 1, Plan = {|RG0019:"query:"|})]
            public string Get() => "g";
        }
        """);

    [Fact]
    public Task RG0019_is_silent_for_every_valid_plan_source_no_plan_and_a_plan_resolver() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1, Plan = "header:X-Plan")]

        """ + Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, Plan = "header:X-Plan")] () => "a");
                app.MapGet("/b", [TokenBucket(5, 1, Plan = "query:plan")] () => "b");
                app.MapGet("/c/{plan}", [TokenBucket(5, 1, Plan = "route:plan")] (string plan) => plan);
                app.MapGet("/d", [TokenBucket(5, 1, Plan = "claim:plan")] () => "d").RequireAuthorization();
                app.MapGet("/e", [TokenBucket(5, 1, Plan = null)] () => "e");
                app.MapGet("/f", () => "f").RequireTokenBucket(5, 1, plan: null);
                app.MapGet("/g", [TokenBucket(5, 1, Plan = "user", PlanResolver = typeof(ApiKeyPlans))] () => "g");
                var plan = System.Environment.GetEnvironmentVariable("PLAN");
                app.MapGet("/h", () => "h").RequireTokenBucket(5, 1, plan: plan);
        """) + Resolvers);

    [Theory]
    [InlineData("claims:plan", "Plan \"claims:plan\" is not a valid plan source: use \"claim:plan\" (the valid forms are \"header:<Name>\", \"claim:<type>\", \"route:<name>\" or \"query:<name>\")", "claim:plan")]
    [InlineData("user", "Plan \"user\" is not a valid plan source: \"user\" is a key, which says whose bucket a request draws from, not where the caller's plan is read: use \"header:<Name>\", \"claim:<type>\", \"route:<name>\" or \"query:<name>\", or a PlanResolver", null)]
    [InlineData("IP", "Plan \"IP\" is not a valid plan source: \"ip\" is a key, which says whose bucket a request draws from, not where the caller's plan is read: use \"header:<Name>\", \"claim:<type>\", \"route:<name>\" or \"query:<name>\", or a PlanResolver", null)]
    [InlineData("cookie:plan", "Plan \"cookie:plan\" is not a valid plan source: use \"header:<Name>\", \"claim:<type>\", \"route:<name>\" or \"query:<name>\", or a PlanResolver", null)]
    public async Task RG0019_names_the_source_it_was_likely_meant_to_be_and_says_a_key_is_no_plan(string plan, string expected, string? suggestion)
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + Routes($"app.MapGet(\"/a\", [TokenBucket(10, 5, Plan = \"{plan}\")] () => \"a\");"));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(("RG0019", expected), (diagnostic.Id, diagnostic.GetMessage(CultureInfo.InvariantCulture)));
        Assert.Equal(suggestion, diagnostic.Properties.GetValueOrDefault("SuggestedKey"));
    }

    [Fact]
    public Task RG0020_a_plan_resolver_that_is_not_a_concrete_ITokenBucketPlanResolver_is_an_error() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1, PlanResolver = {|RG0020:typeof(KeyOnly)|})]
        [assembly: TokenBucketLimit("reads", 10, 1, PlanResolver = typeof(ApiKeyPlans))]

        """ + Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, PlanResolver = {|RG0020:typeof(string)|})] () => "a");
                app.MapGet("/b", [TokenBucket(5, 1, PlanResolver = {|RG0020:typeof(GenericPlans<>)|})] () => "b");
                app.MapGet("/c", [TokenBucket(5, 1, PlanResolver = {|RG0020:typeof(AbstractPlans)|})] () => "c");
                app.MapGet("/d", () => "d").WithMetadata(new TokenBucketAttribute(5, 1) { PlanResolver = {|RG0020:typeof(ITokenBucketPlanResolver)|} });
                app.MapGet("/e", [TokenBucket(5, 1, PlanResolver = typeof(ApiKeyPlans))] () => "e");
                app.MapGet("/f", [TokenBucket(5, 1, PlanResolver = typeof(GenericPlans<int>))] () => "f");
                app.MapGet("/g", () => "g").WithMetadata(new TokenBucketAttribute(5, 1) { PlanResolver = typeof(ApiKeyPlans) });
                app.MapGet("/h", [TokenBucket(5, 1, PlanResolver = null)] () => "h");
        """) + Resolvers + """

        [ApiController]
        [Route("i")]
        [TokenBucket(5, 1, PlanResolver = {|RG0020:typeof(KeyOnly)|})]
        public sealed class IController : ControllerBase
        {
            [HttpGet]
            public string Get() => "i";
        }
        """);

    [Fact]
    public async Task RG0020_names_the_type_and_the_interface()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + Routes("""app.MapGet("/a", [TokenBucket(5, 1, PlanResolver = typeof(KeyOnly))] () => "a");""") + Resolvers);

        Assert.Equal(
            "Plan resolver KeyOnly is not a concrete, closed type implementing RateGuard.ITokenBucketPlanResolver: implement the interface on a non-abstract, non-generic class, or read the plan with Plan",
            Assert.Single(diagnostics).GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task RG0004_a_route_plan_the_route_lacks_is_an_error_on_every_form() => VerifyLibrary(Routes("""
        app.MapGet("/tenants/{tenant}", [TokenBucket(5, 1, Plan = {|RG0004:"route:plan"|})] (string tenant) => tenant);
                app.MapGet("/b/{x}", () => "b").RequireTokenBucket(5, 1, plan: {|RG0004:"route:y"|});
                app.MapGet("/c/{x}", () => "c").WithMetadata(new TokenBucketAttribute(5, 1) { Plan = {|RG0004:"route:z"|} });
                var group = app.MapGroup("/g").RequireTokenBucket(5, 1, plan: {|RG0004:"route:plan"|});
                group.MapGet("/{plan}", (string plan) => plan);
                group.MapGet("/", () => "all");
                app.MapGet("/both/{x}", [TokenBucket(5, 1, Key = {|RG0004:"route:id"|}, Plan = {|RG0004:"route:plan"|})] (string x) => x);
        """) + """

        [ApiController]
        [Route("orders/{tenant}")]
        [TokenBucket(5, 1, Plan = {|RG0004:"route:plan"|})]
        public sealed class OrdersController : ControllerBase
        {
            [HttpGet("{plan}")]
            [TokenBucket(5, 1, Plan = "route:plan")]
            public string Get(string tenant, string plan) => plan;

            [HttpGet("")]
            [TokenBucket(5, 1, Plan = {|RG0004:"route:tier"|})]
            public string List(string tenant) => tenant;
        }
        """);

    [Fact]
    public Task RG0004_is_silent_for_a_route_plan_the_route_has_or_a_plan_resolver() => VerifyLibrary(Routes("""
        app.MapGet("/plans/{plan:alpha}", [TokenBucket(5, 1, Plan = "route:PLAN")] (string plan) => plan);
                app.MapGroup("/p/{plan}").RequireTokenBucket(5, 1, plan: "route:plan").MapGet("/x", () => "x");
                app.MapGet("/r", [TokenBucket(5, 1, Plan = "route:plan", PlanResolver = typeof(ApiKeyPlans))] () => "r");
        """) + Resolvers);

    [Fact]
    public async Task RG0004_on_a_plan_says_plan_and_offers_the_route_parameters()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + Routes("""
            app.MapGet("/tenants/{tenant}", [TokenBucket(5, 1, Plan = "route:plan")] (string tenant) => tenant);
                    app.MapGet("/plain", [TokenBucket(5, 1, Plan = "route:plan")] () => "plain");
            """));

        Assert.Equal([
            ("RG0004", "Plan \"route:plan\" names a route value that the route template \"/tenants/{tenant}\" does not have: use one of its parameters: tenant, or add {plan} to the template", "tenant"),
            ("RG0004", "Plan \"route:plan\" names a route value that the route template \"/plain\" does not have: use a plan source of another kind (the template has no parameters), or add {plan} to the template", ""),
        ], diagnostics.OrderBy(d => d.Location.SourceSpan.Start).Select(d => (d.Id, d.GetMessage(CultureInfo.InvariantCulture), d.Properties["RouteParameters"])));
    }

    [Fact]
    public Task RG0022_a_claim_plan_on_an_endpoint_anonymous_callers_reach_warns_on_every_form() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, Plan = {|RG0022:"claim:plan"|})] () => "a");
                app.MapGet("/b", () => "b").RequireTokenBucket(5, 1, plan: {|RG0022:"claim:plan"|});
                app.MapGet("/c", () => "c").WithMetadata(new TokenBucketAttribute(5, 1) { Plan = {|RG0022:"claim:plan"|} });
                app.MapGet("/d", [AllowAnonymous] [TokenBucket(5, 1, Plan = {|RG0022:"claim:plan"|})] () => "d").RequireAuthorization();
                var group = app.MapGroup("/e").RequireTokenBucket(5, 1, plan: {|RG0022:"claim:plan"|});
                group.MapGet("/", () => "all");
                app.MapGet("/f", [TokenBucket(5, 1, Key = {|RG0007:"user"|}, Plan = {|RG0022:"claim:plan"|})] () => "f");
        """) + """

        [ApiController]
        [Route("g")]
        [TokenBucket(5, 1, Plan = {|RG0022:"claim:plan"|})]
        public sealed class GController : ControllerBase
        {
            [HttpGet]
            public string Get() => "g";
        }

        [ApiController]
        [Route("h")]
        [Authorize]
        public sealed class HController : ControllerBase
        {
            [HttpGet]
            [TokenBucket(5, 1, Plan = "claim:plan")]
            public string Get() => "h";

            [HttpGet("public"), AllowAnonymous]
            [TokenBucket(5, 1, Plan = {|RG0022:"claim:plan"|})]
            public string Public() => "public";
        }
        """);

    [Fact]
    public Task RG0022_is_silent_when_authorization_is_required_or_the_plan_is_read_otherwise() => VerifyLibrary(Routes("""
        app.MapGet("/a", [TokenBucket(5, 1, Plan = "claim:plan")] () => "a").RequireAuthorization();
                app.MapGet("/b", [Authorize] [TokenBucket(5, 1, Plan = "claim:plan")] () => "b");
                app.MapGroup("/c").RequireAuthorization().RequireTokenBucket(5, 1, plan: "claim:plan").MapGet("/x", () => "x");
                app.MapGet("/d", [TokenBucket(5, 1, Plan = "header:X-Plan")] () => "d");
                app.MapGet("/e", [TokenBucket(5, 1, Plan = "claim:plan", PlanResolver = typeof(ApiKeyPlans))] () => "e");
        """) + Resolvers);

    [Fact]
    public async Task RG0022_says_what_an_anonymous_caller_gets()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + Routes("""app.MapGet("/a", [TokenBucket(5, 1, Plan = "claim:plan")] () => "a");"""));

        Assert.Equal(
            "Plan \"claim:plan\" reads a claim of the signed-in user, but this endpoint allows anonymous callers, who have no claims and always get this limit's own capacity and rate: require authorization on the endpoint, or read the plan from another source",
            Assert.Single(diagnostics).GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task A_declared_plan_is_checked_at_every_use() => VerifyLibrary("""
        [assembly: TokenBucketLimit("tenant", 10, 1, Plan = "route:plan")]
        [assembly: TokenBucketLimit("member", 10, 1, Plan = "claim:plan")]

        """ + Routes("""
        app.MapGet("/p/{plan}", [TokenBucket("tenant")] (string plan) => plan);
                app.MapGet("/a", [TokenBucket({|RG0004:"tenant"|})] () => "a");
                app.MapGet("/b", () => "b").RequireTokenBucket({|RG0004:"tenant"|});
                app.MapGet("/c", [TokenBucket({|RG0022:"member"|})] () => "c");
                app.MapGet("/d", [TokenBucket("member")] () => "d").RequireAuthorization();
        """) + """

        [ApiController, Route("e")]
        [TokenBucket({|RG0022:"member"|})]
        public sealed class EController : ControllerBase
        {
            [HttpGet]
            [TokenBucket({|RG0004:"tenant"|})]
            public string Get() => "e";
        }
        """);

    [Fact]
    public async Task A_declared_plan_at_a_use_names_the_limit_and_offers_no_fix_that_would_rewrite_the_name()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + """
            [assembly: TokenBucketLimit("tenant", 10, 1, Plan = "route:plan")]

            """ + Routes("""app.MapGet("/items/{id}", (string id) => id).RequireTokenBucket("tenant");"""));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(
            "Plan \"route:plan\" names a route value that the route template \"/items/{id}\" (using limit \"tenant\") does not have: use one of its parameters: id, or add {plan} to the template",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
        Assert.False(diagnostic.Properties.ContainsKey("RouteParameters"));
    }

    [Fact]
    public async Task A_key_and_a_plan_of_one_declared_limit_are_each_reported_on_a_controller_action()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + """
            [assembly: TokenBucketLimit("tenant", 10, 1, Key = "route:tenant", Plan = "route:plan")]

            [ApiController, Route("a")]
            public sealed class AController : ControllerBase
            {
                [HttpGet]
                [TokenBucket("tenant")]
                public string Get() => "a";
            }
            """);

        Assert.Equal([
            "Key \"route:tenant\" names a route value that the route template \"a\" of action Get (using limit \"tenant\") does not have: use a key of another kind (the template has no parameters), or add {tenant} to the template",
            "Plan \"route:plan\" names a route value that the route template \"a\" of action Get (using limit \"tenant\") does not have: use a plan source of another kind (the template has no parameters), or add {plan} to the template",
        ], diagnostics.Select(d => d.GetMessage(CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public Task RG0018_a_plan_beside_a_limits_name_is_an_error() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1)]

        """ + Routes("""
        app.MapPost("/a", [TokenBucket("writes", Plan = {|RG0018:"header:X-Plan"|})] () => "a");
                app.MapPost("/b", () => "b").WithMetadata(new TokenBucketAttribute("writes") { PlanResolver = {|RG0018:typeof(ApiKeyPlans)|} });
        """) + Resolvers + """

        [ApiController, Route("c")]
        [TokenBucket("writes", Plan = {|RG0018:"claim:plan"|}, PlanResolver = {|RG0018:typeof(ApiKeyPlans)|})]
        public sealed class CController : ControllerBase
        {
            [HttpPost]
            public string Post() => "c";
        }
        """);
}
