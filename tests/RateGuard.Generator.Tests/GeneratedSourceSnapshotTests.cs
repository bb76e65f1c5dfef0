using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RateGuard.Generator.Tests.Infrastructure;

namespace RateGuard.Generator.Tests;

/// <summary>
/// The generated source for each way of writing a limit, compared with the golden files in Snapshots/. Every case runs
/// through <see cref="GeneratorHarness.Run"/>, which also proves that the generator caches it.
/// </summary>
public sealed class GeneratedSourceSnapshotTests
{
    private const string Usings = """
        using Microsoft.AspNetCore.Builder;
        using Microsoft.AspNetCore.Http;
        using Microsoft.AspNetCore.Mvc;
        using RateGuard;

        """;

    private static string MinimalApi(string body) => Usings + $$"""
        public static class Routes
        {
            public static void Map(WebApplication app)
            {
                {{body}}
            }
        }
        """;

    public static TheoryData<string, string> Cases => new()
    {
        { "KeyIp", MinimalApi("""app.MapGet("/ping", [TokenBucket(capacity: 10, rate: 5, Key = "ip")] () => "pong");""") },
        { "KeyUser", MinimalApi("""app.MapGet("/me", [TokenBucket(5, 1, Key = "user")] () => "me").RequireAuthorization();""") },
        { "KeyGlobal", MinimalApi("""app.MapGet("/all", [TokenBucket(100, 50, Key = "global")] () => "all");""") },
        { "KeyHeader", MinimalApi("""app.MapGet("/k", [TokenBucket(5, 1, Key = "header:X-Api-Key")] () => "k");""") },
        { "KeyQuery", MinimalApi("""app.MapGet("/q", [TokenBucket(3, 1, Key = "query:q")] (string q) => q);""") },
        { "KeyRoute", MinimalApi("""app.MapGet("/tenants/{tenant}", [TokenBucket(4, 2, Key = "route:tenant")] (string tenant) => tenant);""") },
        { "KeyClaim", MinimalApi("""app.MapGet("/t", [TokenBucket(3, 1, Key = "claim:tenant_id")] () => "t").RequireAuthorization();""") },
        { "MethodGroup", Usings + """
            public static class Routes
            {
                public static void Map(WebApplication app) => app.MapGet("/global", Handlers.Global);
            }

            public static class Handlers
            {
                [TokenBucket(20, 10, Key = "global")]
                public static string Global() => "global";
            }
            """ },
        { "LocalFunction", MinimalApi("""
            [TokenBucket(5, 0.5, Key = "header:X-Client")]
                    static string Local() => "local";
                    app.MapGet("/local", Local);
            """) },
        { "StaticLambda", MinimalApi("""app.MapGet("/s", [TokenBucket(7, 3.5)] static () => "s");""") },
        { "MultipleAttributes", MinimalApi("""app.MapGet("/multi", [TokenBucket(3, 1)] [TokenBucket(100, 10, Key = "global", Cost = 2)] () => "multi");""") },
        { "ControllerAndActionWithDisable", Usings + """
            [ApiController]
            [Route("reports")]
            [TokenBucket(5, 1, Key = "header:X-Api-Key")]
            public sealed class ReportsController : ControllerBase
            {
                [HttpGet("daily")]
                public string Daily() => "daily";

                [HttpGet("expensive")]
                [TokenBucket(2, 1)]
                public string Expensive() => "expensive";

                [HttpGet("health")]
                [DisableTokenBucket]
                public string Health() => "ok";
            }
            """ },
        { "SharedBucket", MinimalApi("""
            app.MapGet("/a", [TokenBucket(4, 1, Bucket = "shared")] () => "a");
                    app.MapGet("/b", [TokenBucket(4, 1, Bucket = "shared")] () => "b");
            """) },
        { "CustomResolver", Usings + """
            public sealed class TenantResolver : ITokenBucketKeyResolver
            {
                public string? ResolveKey(HttpContext context) => context.Request.Host.Host;
            }

            public sealed class InjectedResolver(string prefix) : ITokenBucketKeyResolver
            {
                public string? ResolveKey(HttpContext context) => prefix + context.Request.Path;
            }

            public static class Routes
            {
                public static void Map(WebApplication app)
                {
                    app.MapGet("/r", [TokenBucket(10, 2, KeyResolver = typeof(TenantResolver))] () => "r");
                    app.MapGet("/i", [TokenBucket(10, 2, KeyResolver = typeof(InjectedResolver))] () => "i");
                }
            }
            """ },
        { "EndpointMetadata", MinimalApi("""
            app.MapGet("/m", () => "m").WithMetadata(new TokenBucketAttribute(2, 1) { Key = "query:id", Cost = 1 });
                    var group = app.MapGroup("/reports").RequireTokenBucket(3, 1, key: "header:X-Api-Key");
                    group.MapGet("/daily", () => "daily");
                    app.MapGet("/single", () => "single").RequireTokenBucket(capacity: 9, rate: 3);
            """) },
        { "ConstantsFolded", Usings + """
            public static class Limits
            {
                public const int Burst = 60 * 10;
                public const double PerMinute = 1.0 / 60;
                public const string TenantHeader = "header:" + "X-Tenant";
            }

            public static class Routes
            {
                public static void Map(WebApplication app)
                {
                    app.MapGet("/c", [TokenBucket(Limits.Burst, Limits.PerMinute * 30, Key = Limits.TenantHeader)] () => "c");
                }
            }
            """ },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    [MemberData(nameof(MoreCases))]
    public void Generated_source_matches_its_snapshot(string name, string source) =>
        Snapshot.Match(WithVersionPlaceholder(GeneratorHarness.RunAndGetSource(source)), name);

    // The golden files hold a placeholder where [GeneratedCode] names the generator's version, so that a release does
    // not change every snapshot. Only the exact attribute with the real version is replaced: any other version string
    // stays in the output and fails the comparison.
    private static string WithVersionPlaceholder(string generated) =>
        generated.Replace(GeneratedCodeAttribute(s_generatorVersion), GeneratedCodeAttribute("{GeneratorVersion}"));

    private static string GeneratedCodeAttribute(string version) =>
        $"[global::System.CodeDom.Compiler.GeneratedCode(\"RateGuard.Generator\", \"{version}\")]";

    private static readonly string s_generatorVersion = typeof(TokenBucketGenerator).Assembly.GetName().Version!.ToString();

    [Fact]
    public void GeneratedCode_names_the_version_of_the_generator_assembly()
    {
        var generated = GeneratorHarness.RunAndGetSource(MinimalApi("""app.MapGet("/p", [TokenBucket(10, 5)] () => "p");"""));

        Assert.Contains(GeneratedCodeAttribute(s_generatorVersion), generated);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(generated, "GeneratedCode\\("));
    }

    [Fact]
    public void Adding_a_limit_leaves_the_names_of_the_other_gates_unchanged()
    {
        var before = GateClassNames(GeneratorHarness.RunAndGetSource(MinimalApi("""
            app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
                    app.MapGet("/b", [TokenBucket(5, 1, Key = "header:X-Api-Key")] () => "b");
            """)));
        var after = GateClassNames(GeneratorHarness.RunAndGetSource(MinimalApi("""
            app.MapGet("/0", [TokenBucket(1, 1, Key = "global")] () => "0");
                    app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
                    app.MapGet("/b", [TokenBucket(5, 1, Key = "header:X-Api-Key")] () => "b");
                    app.MapGet("/c", [TokenBucket(10, 5, Key = "user")] () => "c");
            """)));

        Assert.Equal(["TokenBucketGate_Capacity5_Rate1_Header_X_Api_Key_54A5FC44", "TokenBucketGate_Capacity10_Rate5_Ip"], before);
        Assert.Equal(
            ["TokenBucketGate_Capacity1_Rate1_Global", "TokenBucketGate_Capacity5_Rate1_Header_X_Api_Key_54A5FC44", "TokenBucketGate_Capacity10_Rate5_Ip", "TokenBucketGate_Capacity10_Rate5_User"],
            after);
    }

    [Fact]
    public void Keys_that_read_alike_as_identifiers_get_distinct_gate_names()
    {
        var names = GateClassNames(GeneratorHarness.RunAndGetSource(MinimalApi("""
            app.MapGet("/a", [TokenBucket(5, 1, Key = "header:X-Api-Key")] () => "a");
                    app.MapGet("/b", [TokenBucket(5, 1, Key = "header:X_Api_Key")] () => "b");
                    app.MapGet("/c", [TokenBucket(5, 1, Key = "header:X.Api.Key")] () => "c");
                    app.MapGet("/d", [TokenBucket(5, 0.5, Key = "claim:http://schemas.example.org/tenant")] () => "d").RequireAuthorization();
            """)));

        Assert.Equal(4, names.Distinct(StringComparer.Ordinal).Count());
        Assert.Contains("TokenBucketGate_Capacity5_Rate1_Header_X_Api_Key", names);
        Assert.All(names, name => Assert.Matches("^TokenBucketGate_[A-Za-z0-9_]+$", name));
    }

    private static string[] GateClassNames(string generated) =>
        [.. System.Text.RegularExpressions.Regex.Matches(generated, @"file sealed class (\w+) ").Select(m => m.Groups[1].Value)];

    public static TheoryData<string, string> MoreCases => new()
    {
        { "EscapedKeyAndExponentRate", MinimalApi("""app.MapGet("/e", [TokenBucket(1, 1e-5, Key = "query:a\"b\\c")] () => "e");""") },
        { "NestedResolver", Usings + """
            public static class Outer
            {
                public sealed class Resolver : ITokenBucketKeyResolver
                {
                    public string? ResolveKey(HttpContext context) => "k";
                }
            }

            public static class Routes
            {
                public static void Map(WebApplication app) => app.MapGet("/n", [TokenBucket(3, 1, KeyResolver = typeof(Outer.Resolver))] () => "n");
            }
            """ },
        { "NamedLimit", Usings + """
            [assembly: TokenBucketLimit("writes", capacity: 10, rate: 1, Key = "user")]
            [assembly: TokenBucketLimit("reads", 100, 0.5, Key = "header:X-Api-Key", Cost = 2)]

            public static class Routes
            {
                public static void Map(WebApplication app)
                {
                    app.MapPost("/notes", [TokenBucket("writes")] () => "created").RequireAuthorization();
                    app.MapPut("/notes/{id}", (int id) => id).RequireTokenBucket("writes").RequireAuthorization();
                    app.MapDelete("/notes/{id}", (int id) => id).WithMetadata(new TokenBucketAttribute("writes")).RequireAuthorization();
                    app.MapGroup("/search").RequireTokenBucket("reads").MapGet("/", () => "found");
                }
            }

            [ApiController, Route("drafts")]
            [TokenBucket("writes")]
            public sealed class DraftsController : ControllerBase
            {
                [HttpPost]
                [Microsoft.AspNetCore.Authorization.Authorize]
                public string Save() => "saved";
            }
            """ },
    };

    [Fact]
    public void A_use_by_name_gets_the_gate_of_the_equivalent_full_attribute()
    {
        var byName = GeneratorHarness.RunAndGetSource(Usings + """
            [assembly: TokenBucketLimit("writes", capacity: 10, rate: 1, Key = "user")]

            public static class Routes
            {
                public static void Map(WebApplication app) => app.MapPost("/notes", [TokenBucket("writes")] () => "created").RequireAuthorization();
            }
            """);
        var full = GeneratorHarness.RunAndGetSource(MinimalApi("""app.MapPost("/notes", [TokenBucket(10, 1, Key = "user", Bucket = "writes")] () => "created").RequireAuthorization();"""));

        Assert.Equal(GateClassNames(full), GateClassNames(byName));
        Assert.Contains("""
                        global::RateGuard.CompilerServices.TokenBucketGateRegistry.RegisterLimit(
                            typeof(TokenBucketGateRegistration_TestApp).Assembly,
                            "writes",
                            new global::RateGuard.CompilerServices.TokenBucketSpec(10, 1d, "user", 1, null));
            """.Replace("\r\n", "\n"), byName);
    }

    [Fact]
    public void A_plan_leaves_the_generated_gate_as_it_is_without_one()
    {
        const string resolver = """

            public sealed class ApiKeyPlans : ITokenBucketPlanResolver
            {
                public string? ResolvePlan(HttpContext context, string key) => null;
            }
            """;
        var withPlans = GeneratorHarness.RunAndGetSource(MinimalApi("""
            app.MapGet("/a", [TokenBucket(5, 1, Key = "header:X-Api-Key", Plan = "claim:plan")] () => "a").RequireAuthorization();
                    app.MapGet("/b", [TokenBucket(6, 1, PlanResolver = typeof(ApiKeyPlans))] () => "b");
                    app.MapGet("/c", () => "c").RequireTokenBucket(7, 1, plan: "header:X-Plan");
            """) + resolver);
        var without = GeneratorHarness.RunAndGetSource(MinimalApi("""
            app.MapGet("/a", [TokenBucket(5, 1, Key = "header:X-Api-Key")] () => "a").RequireAuthorization();
                    app.MapGet("/b", [TokenBucket(6, 1)] () => "b");
                    app.MapGet("/c", () => "c").RequireTokenBucket(7, 1);
            """) + resolver);

        Assert.Equal(without, withPlans);
    }

    [Fact]
    public void A_count_a_count_rule_and_a_maximum_cost_leave_the_generated_gate_as_it_is_without_them()
    {
        static string Source(string declaration, string body) => Usings + $$"""
            {{declaration}}

            public sealed class FailuresOnly : ITokenBucketCountRule
            {
                public bool Counts(int statusCode) => statusCode >= 400;
            }

            public static class Routes
            {
                public static void Map(WebApplication app)
                {
                    {{body}}
                }
            }
            """;
        // The fluent call's count and maxCost are read by name and by position; neither shapes the gate, which the
        // runtime wraps in what settles after the response.
        var withOutcomes = GeneratorHarness.RunAndGetSource(Source("""[assembly: TokenBucketLimit("writes", 10, 1, Count = "failures", MaxCost = 20)]""", """
            app.MapGet("/a", [TokenBucket(5, 1, Key = "header:X-Api-Key", Count = "401,403")] () => "a");
                    app.MapGet("/b", [TokenBucket(6, 1, CountRule = typeof(FailuresOnly), MaxCost = 6)] () => "b");
                    app.MapGet("/c", () => "c").RequireTokenBucket(7, 1, count: "failures", maxCost: 70);
                    app.MapGet("/d", () => "d").RequireTokenBucket(8, 2, "user", 2, null, false, null, "500-599", 16).RequireAuthorization();
                    app.MapGet("/e", () => "e").WithMetadata(new TokenBucketAttribute(9, 1) { Count = "all", MaxCost = 9 });
                    app.MapPost("/f", [TokenBucket("writes")] () => "f");
            """));
        var without = GeneratorHarness.RunAndGetSource(Source("""[assembly: TokenBucketLimit("writes", 10, 1)]""", """
            app.MapGet("/a", [TokenBucket(5, 1, Key = "header:X-Api-Key")] () => "a");
                    app.MapGet("/b", [TokenBucket(6, 1)] () => "b");
                    app.MapGet("/c", () => "c").RequireTokenBucket(7, 1);
                    app.MapGet("/d", () => "d").RequireTokenBucket(8, 2, "user", 2).RequireAuthorization();
                    app.MapGet("/e", () => "e").WithMetadata(new TokenBucketAttribute(9, 1));
                    app.MapPost("/f", [TokenBucket("writes")] () => "f");
            """));

        Assert.Equal(without, withOutcomes);
        Assert.Contains("new global::RateGuard.CompilerServices.TokenBucketSpec(8, 2d, \"user\", 2, null)", withOutcomes);
    }

    public static TheoryData<string, string> UnnameableResolvers => new()
    {
        { "unbound generic", """app.MapGet("/r", () => "r").WithMetadata(new TokenBucketAttribute(10, 5) { KeyResolver = typeof(KeyOf<>) });""" },
        { "through a type parameter", """app.MapGet("/r", () => "r").Limit<string>();""" },
        { "with a private type argument", """app.MapGet("/r", [TokenBucket(5, 1, KeyResolver = typeof(KeyOf<Hidden[]>))] () => "r");""" },
    };

    [Theory]
    [MemberData(nameof(UnnameableResolvers))]
    public void A_resolver_that_generated_code_cannot_name_gets_no_gate(string resolver, string endpoint)
    {
        _ = resolver; // names the case
        var generated = GeneratorHarness.RunAndGetSource(Usings + $$"""
            public sealed class KeyOf<T> : ITokenBucketKeyResolver
            {
                public string? ResolveKey(HttpContext context) => typeof(T).Name;
            }

            public static class Routes
            {
                private sealed class Hidden
                {
                }

                public static RouteHandlerBuilder Limit<TT>(this RouteHandlerBuilder builder) =>
                    builder.WithMetadata(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(KeyOf<TT>) });

                public static void Map(WebApplication app)
                {
                    app.MapGet("/ok", [TokenBucket(10, 5)] () => "ok");
                    {{endpoint}}
                }
            }
            """);

        Assert.Single(System.Text.RegularExpressions.Regex.Matches(generated, "TokenBucketGateRegistry.Register"));
        Assert.DoesNotContain("KeyOf", generated);
    }

    [Fact]
    public void A_resolver_whose_parameterless_constructor_would_not_compile_cleanly_is_left_to_dependency_injection()
    {
        // Each of these would turn `new Resolver()` in generated code into an error or a warning.
        var generated = GeneratorHarness.RunAndGetSource(Usings + """
            public sealed class RequiredKey : ITokenBucketKeyResolver
            {
                public required string Header { get; init; }
                public string? ResolveKey(HttpContext context) => context.Request.Headers[Header];
            }

            public sealed class ObsoleteKey : ITokenBucketKeyResolver
            {
                [System.Obsolete("Use the DI registration.")]
                public ObsoleteKey() { }
                public string? ResolveKey(HttpContext context) => "k";
            }

            public sealed class SetsRequiredKey : ITokenBucketKeyResolver
            {
                [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
                public SetsRequiredKey() => Header = "X-Tenant";
                public required string Header { get; init; }
                public string? ResolveKey(HttpContext context) => context.Request.Headers[Header];
            }

            public static class Routes
            {
                public static void Map(WebApplication app)
                {
                    app.MapGet("/r", [TokenBucket(5, 1, KeyResolver = typeof(RequiredKey))] () => "r");
                    app.MapGet("/o", [TokenBucket(5, 1, KeyResolver = typeof(ObsoleteKey))] () => "o");
                    app.MapGet("/s", [TokenBucket(5, 1, KeyResolver = typeof(SetsRequiredKey))] () => "s");
                }
            }
            """);

        Assert.DoesNotContain("new global::RequiredKey()", generated);
        Assert.DoesNotContain("new global::ObsoleteKey()", generated);
        Assert.Contains("new global::SetsRequiredKey()", generated);
        Assert.Contains("Token bucket key resolver RequiredKey cannot be created without dependency injection", generated);
    }

    [Fact]
    public void Before_CSharp_11_nothing_is_generated_and_nothing_breaks()
    {
        var compilation = GeneratorHarness.Compile(MinimalApi("""app.MapGet("/p", [TokenBucket(10, 5)] () => "p");"""));
        var csharp10 = GeneratorHarness.ParseOptions.WithLanguageVersion(LanguageVersion.CSharp10);
        compilation = compilation.RemoveAllSyntaxTrees().AddSyntaxTrees(compilation.SyntaxTrees.Select(t => t.WithRootAndOptions(t.GetRoot(), csharp10)));

        GeneratorHarness.Run(compilation, out var output, out var diagnostics);

        Assert.Empty(diagnostics);
        Assert.Equal(compilation.SyntaxTrees.Count(), output.SyntaxTrees.Count());
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void Limits_that_are_not_constant_or_not_valid_get_no_gate_and_leave_the_rest()
    {
        var generated = GeneratorHarness.RunAndGetSource(MinimalApi("""
            app.MapGet("/ok", [TokenBucket(10, 5)] () => "ok");
                    app.MapGet("/dynamic", () => "d").WithMetadata(new TokenBucketAttribute(int.Parse("3"), 1));
                    app.MapGet("/bad-key", [TokenBucket(10, 5, Key = "cookie:x")] () => "b");
            """));

        Assert.Single(System.Text.RegularExpressions.Regex.Matches(generated, "TokenBucketGateRegistry.Register"));
        Assert.Contains("new global::RateGuard.CompilerServices.TokenBucketSpec(10, 5d, \"ip\", 1, null)", generated);
    }

    [Fact]
    public void Nothing_is_generated_when_the_runtime_is_not_referenced()
    {
        var compilation = GeneratorHarness.CompileWithoutRuntime("""
            public static class Handlers
            {
                [RateGuard.TokenBucket(10, 5)]
                public static string Ping() => "pong";
            }
            """);

        var result = GeneratorHarness.Run(compilation, out _, out _).GetRunResult();

        Assert.Empty(result.GeneratedTrees);
    }
}
