using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using RateGuard.CodeFixes;
using RateGuard.Generator.Tests.Infrastructure;

namespace RateGuard.Generator.Tests.Analyzers;

public sealed class CodeFixTests
{
    private const string RouteSource = """
        using Microsoft.AspNetCore.Builder;
        using RateGuard;

        public static class Routes
        {
            public static void Map(WebApplication app)
            {
                app.MapGet("/tenants/{tenant}/orders/{id:int}", [TokenBucket(4, 1, Key = "route:tenantId")] (string tenant, int id) => tenant);
            }
        }
        """;

    [Fact]
    public async Task RG0004_offers_each_route_parameter_that_exists()
    {
        var titles = await CodeFixHarness.TitlesAsync(new RouteKeyCodeFixProvider(), "RG0004", OutputKind.DynamicallyLinkedLibrary, RouteSource);

        Assert.Equal(["Use route value 'tenant'", "Use route value 'id'"], titles);
    }

    [Fact]
    public async Task RG0004_fix_replaces_the_key_with_the_chosen_parameter()
    {
        var fixedSources = await CodeFixHarness.ApplyAsync(new RouteKeyCodeFixProvider(), "RG0004", "Use route value 'tenant'", OutputKind.DynamicallyLinkedLibrary, RouteSource);

        Assert.Equal(RouteSource.Replace("\"route:tenantId\"", "\"route:tenant\""), Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0004_fix_all_applies_the_chosen_parameter_wherever_the_route_has_it()
    {
        const string source = """
            using Microsoft.AspNetCore.Builder;
            using RateGuard;

            public static class Routes
            {
                public static void Map(WebApplication app)
                {
                    app.MapGet("/tenants/{tenant}/orders", [TokenBucket(4, 1, Key = "route:tenantId")] (string tenant) => tenant);
                    app.MapGet("/tenants/{tenant}/users", () => "users").RequireTokenBucket(4, 1, key: /* the tenant */ "route:Tenant_Id");
                    app.MapGet("/items/{id}", [TokenBucket(4, 1, Key = "route:itemId")] (int id) => id);
                }
            }
            """;

        Assert.Equal(3, await CodeFixHarness.CountAsync("RG0004", OutputKind.DynamicallyLinkedLibrary, [source]));
        var fixedSources = await CodeFixHarness.FixAllAsync(new RouteKeyCodeFixProvider(), "RG0004", "RG0004:tenant", FixAllScope.Document, OutputKind.DynamicallyLinkedLibrary, [source]);

        Assert.Equal(
            source.Replace("\"route:tenantId\"", "\"route:tenant\"").Replace("/* the tenant */ \"route:Tenant_Id\"", "/* the tenant */ \"route:tenant\""),
            Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0004_fix_replaces_a_route_plan_with_the_chosen_parameter()
    {
        var source = RouteSource.Replace("Key = \"route:tenantId\"", "Plan = \"route:tier\"");

        var fixedSources = await CodeFixHarness.ApplyAsync(new RouteKeyCodeFixProvider(), "RG0004", "Use route value 'tenant'", OutputKind.DynamicallyLinkedLibrary, source);

        Assert.Equal(source.Replace("\"route:tier\"", "\"route:tenant\""), Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0010_fix_all_wires_each_project_of_the_solution_once()
    {
        const string first = """
            using Microsoft.AspNetCore.Builder;
            using Microsoft.Extensions.DependencyInjection;
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            var app = builder.Build();
            app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
            app.MapGet("/b", [TokenBucket(10, 5)] () => "b");
            app.Run();
            """;
        const string second = """
            using Microsoft.AspNetCore.Builder;
            using Microsoft.Extensions.DependencyInjection;
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddTokenBuckets();
            var app = builder.Build();
            app.MapGet("/c", [TokenBucket(10, 5)] () => "c");
            app.Run();
            """;

        Assert.Equal(2, await CodeFixHarness.CountAsync("RG0010", OutputKind.ConsoleApplication, [first], [second]));
        var fixedSources = await CodeFixHarness.FixAllAsync(new WiringCodeFixProvider(), "RG0010", "RG0010", FixAllScope.Solution, OutputKind.ConsoleApplication, [first], [second]);

        Assert.Equal(
            [
                first.Replace("var app = builder.Build();\n", "builder.Services.AddTokenBuckets(builder.Configuration.GetSection(\"TokenBuckets\"));\nvar app = builder.Build();\napp.UseTokenBuckets();\n"),
                second.Replace("var app = builder.Build();\n", "var app = builder.Build();\napp.UseTokenBuckets();\n"),
            ],
            fixedSources);
    }

    [Fact]
    public async Task RG0010_fix_puts_UseTokenBuckets_after_an_explicit_UseRouting()
    {
        const string program = """
            using Microsoft.AspNetCore.Builder;
            using Microsoft.Extensions.DependencyInjection;
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddTokenBuckets();
            var app = builder.Build();
            app.UseRouting();
            app.MapGet("/ping", [TokenBucket(10, 5)] () => "pong");
            app.Run();
            """;

        var fixedSources = await CodeFixHarness.ApplyAsync(new WiringCodeFixProvider(), "RG0010", "Wire token buckets: UseTokenBuckets()", OutputKind.ConsoleApplication, program);

        Assert.Equal(program.Replace("app.UseRouting();\n", "app.UseRouting();\napp.UseTokenBuckets();\n"), Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0010_fix_imports_the_namespace_of_AddTokenBuckets_when_the_file_does_not()
    {
        const string program = """
            using Microsoft.AspNetCore.Builder;
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            var app = builder.Build();
            app.MapGet("/ping", [TokenBucket(10, 5)] () => "pong");
            app.Run();
            """;
        const string expected = """
            using Microsoft.AspNetCore.Builder;
            using Microsoft.Extensions.DependencyInjection;
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
            var app = builder.Build();
            app.UseTokenBuckets();
            app.MapGet("/ping", [TokenBucket(10, 5)] () => "pong");
            app.Run();
            """;

        // ApplyAsync also compiles the fixed project: without the using, AddTokenBuckets would not bind.
        var fixedSources = await CodeFixHarness.ApplyAsync(new WiringCodeFixProvider(), "RG0010", "Wire token buckets: AddTokenBuckets() and UseTokenBuckets()", OutputKind.ConsoleApplication, program);

        Assert.Equal(expected, Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0010_fix_adds_no_using_that_a_global_using_already_gives()
    {
        const string usings = """
            global using Microsoft.AspNetCore.Builder;
            global using Microsoft.Extensions.DependencyInjection;
            """;
        const string program = """
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            var app = builder.Build();
            app.MapGet("/ping", [TokenBucket(10, 5)] () => "pong");
            app.Run();
            """;

        var fixedSources = await CodeFixHarness.ApplyAsync(new WiringCodeFixProvider(), "RG0010", "Wire token buckets: AddTokenBuckets() and UseTokenBuckets()", OutputKind.ConsoleApplication, program, usings);

        Assert.Contains(fixedSources, s => s.StartsWith("using RateGuard;\n\nvar builder", StringComparison.Ordinal) && s.Contains("builder.Services.AddTokenBuckets("));
        Assert.Contains(usings, fixedSources);
    }

    [Fact]
    public async Task RG0010_fix_adds_both_calls_around_build_after_authentication()
    {
        const string program = """
            using Microsoft.AspNetCore.Builder;
            using Microsoft.Extensions.DependencyInjection;
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddAuthorization();
            var app = builder.Build();
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapGet("/ping", [TokenBucket(10, 5)] () => "pong");
            app.Run();
            """;
        const string expected = """
            using Microsoft.AspNetCore.Builder;
            using Microsoft.Extensions.DependencyInjection;
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddAuthorization();
            builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
            var app = builder.Build();
            app.UseAuthentication();
            app.UseAuthorization();
            app.UseTokenBuckets();
            app.MapGet("/ping", [TokenBucket(10, 5)] () => "pong");
            app.Run();
            """;

        var fixedSources = await CodeFixHarness.ApplyAsync(new WiringCodeFixProvider(), "RG0010", "Wire token buckets: AddTokenBuckets() and UseTokenBuckets()", OutputKind.ConsoleApplication, program);

        Assert.Equal(expected, Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0010_fix_adds_only_the_missing_call_in_the_document_that_builds_the_app()
    {
        const string program = """
            using Microsoft.AspNetCore.Builder;
            using Microsoft.Extensions.DependencyInjection;

            public static class Program
            {
                public static void Main(string[] args)
                {
                    var web = WebApplication.CreateBuilder(args);
                    web.Services.AddTokenBuckets();
                    var site = web.Build();
                    site.MapControllers();
                    site.Run();
                }
            }
            """;
        const string controller = """
            using Microsoft.AspNetCore.Mvc;
            using RateGuard;

            [ApiController]
            public sealed class PingController : ControllerBase
            {
                [HttpGet("/ping")]
                [TokenBucket(10, 5)]
                public string Ping() => "pong";
            }
            """;

        var fixedSources = await CodeFixHarness.ApplyAsync(new WiringCodeFixProvider(), "RG0010", "Wire token buckets: UseTokenBuckets()", OutputKind.ConsoleApplication, program, controller);

        Assert.Equal(program.Replace("        var site = web.Build();\n", "        var site = web.Build();\n        site.UseTokenBuckets();\n"), fixedSources[0]);
        Assert.Equal(controller, fixedSources[1]);
    }
}
