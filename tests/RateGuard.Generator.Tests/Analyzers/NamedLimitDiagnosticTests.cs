using System.Globalization;
using Microsoft.CodeAnalysis;
using static RateGuard.Generator.Tests.Infrastructure.AnalyzerHarness;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>
/// Limits declared once with <c>[assembly: TokenBucketLimit]</c> and used by name: an undeclared name (RG0016), a name
/// declared twice (RG0017), a use that sets what only the declaration may (RG0018), a declaration's own arguments, a
/// full attribute that names the limit's bucket with another shape (RG0008), and the key checks RG0004 and RG0007 at
/// every place the limit is used, with the declaration's key.
/// </summary>
public sealed class NamedLimitDiagnosticTests
{
    [Fact]
    public Task A_declared_limit_used_in_every_form_reports_nothing() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", capacity: 10, rate: 1, Key = "user")]
        [assembly: TokenBucketLimit("reads", 100, 5)]

        """ + Routes("""
        app.MapPost("/a", [TokenBucket("writes")] () => "a").RequireAuthorization();
                app.MapPost("/b", () => "b").RequireTokenBucket("writes").RequireAuthorization();
                app.MapPost("/c", () => "c").WithMetadata(new TokenBucketAttribute("writes")).RequireAuthorization();
                app.MapGroup("/d").RequireAuthorization().RequireTokenBucket("writes").MapPost("/x", () => "x");
                app.MapGet("/e", [TokenBucket("reads")] () => "e");
                app.MapPost("/f", [TokenBucket(10, 1, Key = "user", Bucket = "writes")] () => "f").RequireAuthorization();
        """) + """

        [ApiController, Route("g"), Authorize]
        [TokenBucket("writes")]
        public sealed class GController : ControllerBase
        {
            [HttpPost]
            [TokenBucket("reads")]
            public string Post() => "g";
        }
        """);

    [Fact]
    public Task RG0016_a_name_no_declaration_has_is_an_error_on_every_form() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1)]

        """ + Routes("""
        app.MapPost("/a", [TokenBucket({|RG0016:"wrtes"|})] () => "a");
                app.MapPost("/b", () => "b").RequireTokenBucket({|RG0016:"uploads"|});
                app.MapPost("/c", () => "c").WithMetadata(new TokenBucketAttribute({|RG0016:"Writes"|}));
                app.MapGroup("/d").RequireTokenBucket({|RG0016:"reads"|});
        """) + """

        [ApiController, Route("e")]
        [TokenBucket({|RG0016:"write"|})]
        public sealed class EController : ControllerBase
        {
            [HttpPost]
            [TokenBucket({|RG0016:"writes2"|})]
            public string Post() => "e";
        }
        """);

    [Fact]
    public async Task RG0016_suggests_the_nearest_declared_name()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + """
            [assembly: TokenBucketLimit("writes", 10, 1)]
            [assembly: TokenBucketLimit("reads", 100, 5)]

            """ + Routes("""app.MapPost("/a", [TokenBucket("wrtes")] () => "a");"""));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(
            "Limit \"wrtes\" is not declared: use \"writes\" (the declared limits are \"reads\", \"writes\"), or declare it with [assembly: TokenBucketLimit(\"wrtes\", capacity, rate)]",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task RG0016_without_a_near_name_lists_the_declared_ones_and_without_any_says_how_to_declare()
    {
        var far = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + """
            [assembly: TokenBucketLimit("writes", 10, 1)]

            """ + Routes("""app.MapPost("/a", () => "a").RequireTokenBucket("uploads");"""));
        var none = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + Routes("""app.MapPost("/a", () => "a").RequireTokenBucket("uploads");"""));

        Assert.Equal(
            "Limit \"uploads\" is not declared: use one of the declared limits, \"writes\", or declare it with [assembly: TokenBucketLimit(\"uploads\", capacity, rate)]",
            Assert.Single(far).GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal(
            "Limit \"uploads\" is not declared: declare it with [assembly: TokenBucketLimit(\"uploads\", capacity, rate)]",
            Assert.Single(none).GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task RG0017_a_second_declaration_of_a_name_is_an_error_at_the_later_one()
    {
        const string markup = """
            [assembly: TokenBucketLimit("writes", 10, 1, Key = "user")]
            [assembly: TokenBucketLimit({|RG0017:"writes"|}, 20, 2)]
            [assembly: TokenBucketLimit({|RG0017:"writes"|}, 10, 1, Key = "user")]
            [assembly: TokenBucketLimit("reads", 10, 1)]
            """;
        await VerifyLibrary(markup);

        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + markup.Replace("{|RG0017:", "").Replace("|}", ""));
        Assert.Equal(
            "Limit \"writes\" is already declared with capacity 10, rate 1 and key \"user\": a name declares one limit: keep one [assembly: TokenBucketLimit] of that name, or rename one of them",
            diagnostics[0].GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task A_declaration_with_invalid_arguments_gets_the_diagnostics_of_the_attribute() => VerifyLibrary("""
        [assembly: TokenBucketLimit("a", {|RG0001:0|}, 1)]
        [assembly: TokenBucketLimit("b", 10, {|RG0002:0|})]
        [assembly: TokenBucketLimit("c", 10, 1, Key = {|RG0003:"usr"|})]
        [assembly: TokenBucketLimit("d", 10, 1, Cost = {|RG0005:0|})]
        [assembly: TokenBucketLimit("e", 10, 1, Cost = {|RG0006:11|})]
        [assembly: TokenBucketLimit({|RG0012:"no spaces"|}, 10, 1)]
        [assembly: TokenBucketLimit("f", 10, 1, KeyResolver = {|RG0011:typeof(string)|})]
        [assembly: TokenBucketLimit("g", 10, 1, Count = {|RG0023:"5xx"|})]
        [assembly: TokenBucketLimit("h", 10, 1, CountRule = {|RG0024:typeof(string)|})]
        [assembly: TokenBucketLimit("i", 10, 1, Cost = 2, MaxCost = {|RG0025:1|})]
        """);

    [Fact]
    public Task RG0018_a_use_by_name_that_sets_a_setting_of_its_own_is_an_error() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1)]

        public sealed class HostKey : ITokenBucketKeyResolver
        {
            public string? ResolveKey(HttpContext context) => context.Request.Host.Host;
        }

        """ + Routes("""
        app.MapPost("/a", [TokenBucket("writes", Key = {|RG0018:"user"|})] () => "a").RequireAuthorization();
                app.MapPost("/b", [TokenBucket("writes", Cost = {|RG0018:2|}, Bucket = {|RG0018:"other"|})] () => "b");
                app.MapPost("/c", () => "c").WithMetadata(new TokenBucketAttribute("writes") { KeyResolver = {|RG0018:typeof(HostKey)|} });
        """) + """

        [ApiController, Route("d")]
        [TokenBucket("writes", PerEndpoint = {|RG0018:true|})]
        public sealed class DController : ControllerBase
        {
            [HttpPost]
            public string Post() => "d";
        }
        """);

    [Fact]
    public async Task RG0018_says_where_the_setting_belongs()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + """
            [assembly: TokenBucketLimit("writes", 10, 1)]

            """ + Routes("""app.MapPost("/a", [TokenBucket("writes", Cost = 2)] () => "a");"""));

        Assert.Equal(
            "Limit \"writes\" is used by name, so Cost cannot be set here: a limit used by name takes its capacity, rate, key, cost, bucket, plan and counting from its declaration ([assembly: TokenBucketLimit]): set them there, not where it is used",
            Assert.Single(diagnostics).GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task RG0008_a_full_attribute_naming_the_limit_with_another_shape_is_an_error_at_the_attribute() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1, Key = "user")]

        """ + Routes("""
        app.MapPost("/a", [TokenBucket(20, 1, Key = "user", Bucket = {|RG0008:"writes"|})] () => "a").RequireAuthorization();
                app.MapPost("/b", () => "b").RequireTokenBucket(10, 2, key: "user", bucket: {|RG0008:"writes"|}).RequireAuthorization();
                app.MapPost("/c", [TokenBucket(10, 1, Key = "user", Bucket = "writes")] () => "c").RequireAuthorization();
        """));

    [Fact]
    public async Task RG0008_names_the_declared_limit_as_the_shape_to_agree_with()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + """
            [assembly: TokenBucketLimit("writes", 10, 1, Key = "user")]

            """ + Routes("""app.MapPost("/a", [TokenBucket(20, 1, Key = "user", Bucket = "writes")] () => "a").RequireAuthorization();"""));

        Assert.Equal(
            "Bucket \"writes\" is already declared with capacity 10, rate 1 and key \"user\"; this declaration has capacity 20, rate 1 and key \"user\": every declaration of a shared bucket must agree on capacity, rate and key",
            Assert.Single(diagnostics).GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public Task RG0004_a_declared_route_key_is_checked_at_every_use() => VerifyLibrary("""
        [assembly: TokenBucketLimit("tenant", 10, 1, Key = "route:tenant")]

        """ + Routes("""
        app.MapGet("/t/{tenant}/a", [TokenBucket("tenant")] (string tenant) => tenant);
                app.MapGet("/b", [TokenBucket({|RG0004:"tenant"|})] () => "b");
                app.MapGet("/c", () => "c").RequireTokenBucket({|RG0004:"tenant"|});
                app.MapGet("/d", () => "d").WithMetadata(new TokenBucketAttribute({|RG0004:"tenant"|}));
                var group = app.MapGroup("/e").RequireTokenBucket({|RG0004:"tenant"|});
                group.MapGet("/list", () => "list");
                app.MapGroup("/t/{tenant}/f").RequireTokenBucket("tenant").MapGet("/x", () => "x");
        """) + """

        [ApiController, Route("g")]
        [TokenBucket({|RG0004:"tenant"|})]
        public sealed class GController : ControllerBase
        {
            [HttpGet]
            public string Get() => "g";
        }

        [ApiController, Route("h")]
        public sealed class HController : ControllerBase
        {
            [HttpGet("{tenant}")]
            [TokenBucket("tenant")]
            public string Get(string tenant) => tenant;

            [HttpGet("all")]
            [TokenBucket({|RG0004:"tenant"|})]
            public string All() => "all";
        }
        """);

    [Fact]
    public async Task RG0004_at_a_use_by_name_names_the_limit_and_offers_no_fix_that_would_rewrite_the_name()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + """
            [assembly: TokenBucketLimit("tenant", 10, 1, Key = "route:tenant")]

            """ + Routes("""app.MapGet("/items/{id}", (string id) => id).RequireTokenBucket("tenant");"""));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(
            "Key \"route:tenant\" names a route value that the route template \"/items/{id}\" (using limit \"tenant\") does not have: use one of its parameters: id, or add {tenant} to the template",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
        Assert.False(diagnostic.Properties.ContainsKey("RouteParameters"));
    }

    [Fact]
    public Task RG0007_a_declared_user_key_is_checked_at_every_use() => VerifyLibrary("""
        [assembly: TokenBucketLimit("writes", 10, 1, Key = "user")]

        """ + Routes("""
        app.MapPost("/a", [TokenBucket("writes")] () => "a").RequireAuthorization();
                app.MapPost("/b", [TokenBucket({|RG0007:"writes"|})] () => "b");
                app.MapPost("/c", () => "c").RequireTokenBucket({|RG0007:"writes"|});
                app.MapPost("/d", () => "d").WithMetadata(new TokenBucketAttribute({|RG0007:"writes"|}));
                app.MapGroup("/e").RequireTokenBucket({|RG0007:"writes"|}).MapPost("/x", () => "x");
                app.MapGroup("/f").RequireAuthorization().RequireTokenBucket("writes").MapPost("/x", () => "x");
        """) + """

        [ApiController, Route("g")]
        [TokenBucket({|RG0007:"writes"|})]
        public sealed class GController : ControllerBase
        {
            [HttpPost]
            public string Post() => "g";
        }

        [ApiController, Route("h")]
        public sealed class HController : ControllerBase
        {
            [HttpPost, Authorize]
            [TokenBucket("writes")]
            public string Post() => "h";

            [HttpPut]
            [TokenBucket({|RG0007:"writes"|})]
            public string Put() => "h";
        }
        """);

    [Fact]
    public async Task RG0007_at_a_use_by_name_says_which_limit_reads_the_user()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.DynamicallyLinkedLibrary, Usings + """
            [assembly: TokenBucketLimit("writes", 10, 1, Key = "user")]

            """ + Routes("""app.MapPost("/a", [TokenBucket("writes")] () => "a");"""));

        Assert.Equal(
            "Key \"user\" reads the signed-in user, but this endpoint (using limit \"writes\") allows anonymous callers, who have no value and are rejected with 403: require authorization on the endpoint, or use another key",
            Assert.Single(diagnostics).GetMessage(CultureInfo.InvariantCulture));
    }
}
