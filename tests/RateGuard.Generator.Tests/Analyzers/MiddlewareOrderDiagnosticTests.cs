using System.Globalization;
using Microsoft.CodeAnalysis;
using static RateGuard.Generator.Tests.Infrastructure.AnalyzerHarness;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>RG0013: UseTokenBuckets() called before the routing or authentication middleware it depends on.</summary>
public sealed class MiddlewareOrderDiagnosticTests
{
    private const string Services = """
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddTokenBuckets();
        var app = builder.Build();

        """;

    [Fact]
    public Task RG0013_UseTokenBuckets_before_an_explicit_UseRouting_warns_at_the_call() => VerifyApp(Services + """
        {|RG0013:app.UseTokenBuckets()|};
        app.UseRouting();
        app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
        app.Run();
        """);

    [Fact]
    public Task RG0013_UseTokenBuckets_before_UseAuthentication_warns_when_a_limit_keys_on_the_user() => VerifyApp(Services + """
        {|RG0013:app.UseTokenBuckets()|};
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/a", [TokenBucket(10, 5, Key = "user")] () => "a").RequireAuthorization();
        app.Run();
        """);

    [Fact]
    public Task RG0013_a_claim_key_in_a_controller_elsewhere_counts_as_keying_on_the_user() => VerifyLibrary("""
        public sealed class Startup
        {
            public void Configure(IApplicationBuilder app)
            {
                app.UseRouting();
                {|RG0013:app.UseTokenBuckets()|};
                app.UseAuthentication();
                app.UseAuthorization();
            }
        }

        [Authorize]
        public sealed class OrdersController : ControllerBase
        {
            [HttpGet("/orders")]
            [TokenBucket(10, 5, Key = "claim:tenant")]
            public string Get() => "orders";
        }
        """);

    [Fact]
    public Task RG0013_is_silent_before_UseAuthentication_when_no_limit_keys_on_the_user() => VerifyApp(Services + """
        app.UseRouting();
        app.UseTokenBuckets();
        app.UseAuthentication();
        app.MapGet("/a", [TokenBucket(10, 5, Key = "header:X-Api-Key")] () => "a");
        app.Run();
        """);

    [Fact]
    public Task RG0013_is_silent_for_routing_authentication_authorization_then_the_limiter() => VerifyApp(Services + """
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseTokenBuckets();
        app.MapGet("/a", [TokenBucket(10, 5, Key = "user")] () => "a").RequireAuthorization();
        app.Run();
        """);

    [Fact]
    public Task RG0013_is_silent_without_explicit_UseRouting_or_UseAuthentication_which_a_WebApplication_adds_first() => VerifyApp(Services + """
        app.UseTokenBuckets();
        app.MapGet("/a", [TokenBucket(10, 5, Key = "user")] () => "a").RequireAuthorization();
        app.Run();
        """);

    [Fact]
    public Task RG0013_is_silent_for_calls_on_another_builder_or_in_a_branch() => VerifyApp(Services + """
        app.UseTokenBuckets();
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/admin"), branch => branch.UseRouting());
        app.MapWhen(context => context.Request.Path.StartsWithSegments("/legacy"), legacy =>
        {
            legacy.UseAuthentication();
            legacy.UseRouting();
        });
        app.MapGet("/a", [TokenBucket(10, 5, Key = "user")] () => "a").RequireAuthorization();
        app.Run();
        """);

    [Fact]
    public Task RG0013_is_silent_when_the_calls_are_in_different_methods() => VerifyLibrary("""
        public static class Pipeline
        {
            public static void UseLimits(IApplicationBuilder app) => app.UseTokenBuckets();

            public static void UseEndpoints(IApplicationBuilder app)
            {
                app.UseRouting();
                app.UseAuthentication();
            }

            public static void Map(WebApplication app) => app.MapGet("/a", [TokenBucket(10, 5, Key = "user")] () => "a").RequireAuthorization();
        }
        """);

    [Fact]
    public Task RG0013_is_silent_when_routing_already_ran_before_a_second_UseRouting() => VerifyApp(Services + """
        app.UseRouting();
        app.UseTokenBuckets();
        app.UseRouting();
        app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
        app.Run();
        """);

    [Fact]
    public async Task RG0013_before_UseRouting_says_every_request_is_admitted()
    {
        var diagnostic = await SingleAsync(Services + """
            app.UseTokenBuckets();
            app.UseRouting();
            app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
            app.Run();
            """);

        Assert.Equal("UseTokenBuckets() is called before UseRouting(), so no endpoint has been chosen when it runs and every request is admitted without a limit: call it after UseRouting()", diagnostic.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal(["app.UseRouting()"], diagnostic.AdditionalLocations.Select(Text));
    }

    [Fact]
    public async Task RG0013_before_UseAuthentication_says_users_are_rejected()
    {
        var diagnostic = await SingleAsync(Services + """
            app.UseRouting();
            app.UseTokenBuckets();
            app.UseAuthentication();
            app.MapGet("/a", [TokenBucket(10, 5, Key = "claim:sub")] () => "a").RequireAuthorization();
            app.Run();
            """);

        Assert.Equal("UseTokenBuckets() is called before UseAuthentication(), so the user is not yet authenticated when it runs and every request to an endpoint keyed on \"user\" or a claim is rejected with 403: call it after UseAuthentication()", diagnostic.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal(["app.UseAuthentication()"], diagnostic.AdditionalLocations.Select(Text));
    }

    [Fact]
    public async Task RG0013_before_both_names_both_calls()
    {
        var diagnostic = await SingleAsync(Services + """
            app.UseTokenBuckets();
            app.UseRouting();
            app.UseAuthentication();
            app.MapGet("/a", [TokenBucket(10, 5, Key = "user")] () => "a").RequireAuthorization();
            app.Run();
            """);

        Assert.Equal("UseTokenBuckets() is called before UseRouting() and UseAuthentication(), so no endpoint has been chosen when it runs and every request is admitted without a limit; limits keyed on \"user\" or a claim also need the authenticated user: call it after UseRouting() and UseAuthentication()", diagnostic.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal(["app.UseRouting()", "app.UseAuthentication()"], diagnostic.AdditionalLocations.Select(Text));
    }

    private static async Task<Diagnostic> SingleAsync(string source)
    {
        var diagnostic = Assert.Single(await AnalyzeAsync(OutputKind.ConsoleApplication, Usings + source));
        Assert.Equal("RG0013", diagnostic.Id);
        Assert.Equal("app.UseTokenBuckets()", Text(diagnostic.Location));
        return diagnostic;
    }

    private static string Text(Location location) => location.SourceTree!.GetText().ToString(location.SourceSpan);
}
