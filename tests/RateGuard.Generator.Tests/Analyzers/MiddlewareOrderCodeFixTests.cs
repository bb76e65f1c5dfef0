using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using RateGuard.CodeFixes;
using RateGuard.Generator.Tests.Infrastructure;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>RG0013's fix: UseTokenBuckets() moves after the middleware it depends on.</summary>
public sealed class MiddlewareOrderCodeFixTests
{
    [Fact]
    public async Task RG0013_fix_moves_the_call_after_authorization_with_its_comment_and_keeps_blank_lines_in_place()
    {
        const string program = """
            using Microsoft.AspNetCore.Builder;
            using Microsoft.Extensions.DependencyInjection;
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddTokenBuckets();
            var app = builder.Build();

            // One bucket per signed-in user.
            app.UseTokenBuckets();
            app.UseRouting();
            app.UseAuthentication();
            app.UseAuthorization();

            app.MapGet("/me", [TokenBucket(10, 5, Key = "user")] () => "me").RequireAuthorization();
            app.Run();
            """;
        const string expected = """
            using Microsoft.AspNetCore.Builder;
            using Microsoft.Extensions.DependencyInjection;
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddTokenBuckets();
            var app = builder.Build();

            app.UseRouting();
            app.UseAuthentication();
            app.UseAuthorization();
            // One bucket per signed-in user.
            app.UseTokenBuckets();

            app.MapGet("/me", [TokenBucket(10, 5, Key = "user")] () => "me").RequireAuthorization();
            app.Run();
            """;

        var fixedSources = await CodeFixHarness.ApplyAsync(new MiddlewareOrderCodeFixProvider(), "RG0013", "Move UseTokenBuckets() after UseAuthorization()", OutputKind.ConsoleApplication, program);

        Assert.Equal(expected, Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0013_fix_moves_the_call_after_UseRouting_in_a_method_body_with_its_trailing_comment()
    {
        const string startup = """
            using Microsoft.AspNetCore.Builder;
            using RateGuard;

            public sealed class Startup
            {
                public void Configure(IApplicationBuilder app)
                {
                    app.UseTokenBuckets(); // limits each client
                    app.UseRouting();
                    app.UseEndpoints(endpoints => endpoints.MapGet("/a", [TokenBucket(10, 5)] () => "a"));
                }
            }
            """;
        const string expected = """
            using Microsoft.AspNetCore.Builder;
            using RateGuard;

            public sealed class Startup
            {
                public void Configure(IApplicationBuilder app)
                {
                    app.UseRouting();
                    app.UseTokenBuckets(); // limits each client
                    app.UseEndpoints(endpoints => endpoints.MapGet("/a", [TokenBucket(10, 5)] () => "a"));
                }
            }
            """;

        var fixedSources = await CodeFixHarness.ApplyAsync(new MiddlewareOrderCodeFixProvider(), "RG0013", "Move UseTokenBuckets() after UseRouting()", OutputKind.DynamicallyLinkedLibrary, startup);

        Assert.Equal(expected, Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0013_fix_for_routing_alone_still_puts_the_call_after_authentication_and_authorization_that_follow()
    {
        const string program = """
            using Microsoft.AspNetCore.Builder;
            using Microsoft.Extensions.DependencyInjection;
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddTokenBuckets();
            var app = builder.Build();
            app.UseTokenBuckets();
            app.UseRouting();
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
            app.Run();
            """;

        var fixedSources = await CodeFixHarness.ApplyAsync(new MiddlewareOrderCodeFixProvider(), "RG0013", "Move UseTokenBuckets() after UseAuthorization()", OutputKind.ConsoleApplication, program);

        Assert.Equal(program.Replace("app.UseTokenBuckets();\n", "").Replace("app.UseAuthorization();\n", "app.UseAuthorization();\napp.UseTokenBuckets();\n"), Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0013_offers_no_fix_when_the_call_it_must_follow_is_inside_an_if()
    {
        const string program = """
            using Microsoft.AspNetCore.Builder;
            using Microsoft.Extensions.DependencyInjection;
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddTokenBuckets();
            var app = builder.Build();
            app.UseTokenBuckets();
            if (args.Length == 0)
            {
                app.UseRouting();
            }
            app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
            app.Run();
            """;

        Assert.Empty(await CodeFixHarness.TitlesAsync(new MiddlewareOrderCodeFixProvider(), "RG0013", OutputKind.ConsoleApplication, program));
    }

    [Fact]
    public async Task RG0013_fix_all_moves_the_call_in_every_pipeline_of_the_document()
    {
        const string pipelines = """
            using Microsoft.AspNetCore.Builder;
            using RateGuard;

            public static class Pipelines
            {
                public static void Api(IApplicationBuilder app)
                {
                    app.UseTokenBuckets();
                    app.UseRouting();
                    app.UseAuthentication();
                    app.UseEndpoints(endpoints => endpoints.MapGet("/me", [TokenBucket(10, 5, Key = "claim:sub")] () => "me").RequireAuthorization());
                }

                public static void Admin(IApplicationBuilder admin)
                {
                    admin.UseRouting();
                    admin.UseTokenBuckets();
                    admin.UseAuthentication();
                    admin.UseAuthorization();
                    admin.UseEndpoints(endpoints => endpoints.MapGet("/stats", () => "stats"));
                }
            }
            """;
        const string expected = """
            using Microsoft.AspNetCore.Builder;
            using RateGuard;

            public static class Pipelines
            {
                public static void Api(IApplicationBuilder app)
                {
                    app.UseRouting();
                    app.UseAuthentication();
                    app.UseTokenBuckets();
                    app.UseEndpoints(endpoints => endpoints.MapGet("/me", [TokenBucket(10, 5, Key = "claim:sub")] () => "me").RequireAuthorization());
                }

                public static void Admin(IApplicationBuilder admin)
                {
                    admin.UseRouting();
                    admin.UseAuthentication();
                    admin.UseAuthorization();
                    admin.UseTokenBuckets();
                    admin.UseEndpoints(endpoints => endpoints.MapGet("/stats", () => "stats"));
                }
            }
            """;

        Assert.Equal(2, await CodeFixHarness.CountAsync("RG0013", OutputKind.DynamicallyLinkedLibrary, [pipelines]));
        var fixedSources = await CodeFixHarness.FixAllAsync(new MiddlewareOrderCodeFixProvider(), "RG0013", "RG0013", FixAllScope.Document, OutputKind.DynamicallyLinkedLibrary, [pipelines]);

        Assert.Equal(expected, Assert.Single(fixedSources));
    }
}
