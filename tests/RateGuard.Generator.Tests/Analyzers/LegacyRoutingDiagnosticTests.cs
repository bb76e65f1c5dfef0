using System.Globalization;
using Microsoft.CodeAnalysis;
using static RateGuard.Generator.Tests.Infrastructure.AnalyzerHarness;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>RG0015: legacy MVC routing in an app whose controllers carry limits, which that routing never applies.</summary>
public sealed class LegacyRoutingDiagnosticTests
{
    private const string LimitedController = """

        [Route("articles")]
        public sealed class ArticlesController : Controller
        {
            [HttpPost, Authorize]
            [TokenBucket(10, 1, Key = "user")]
            public string Create() => "created";
        }
        """;

    [Fact]
    public Task RG0015_turning_endpoint_routing_off_and_UseMvc_are_each_an_error() => VerifyApp("""
        public static class Program
        {
            public static void Main(string[] args)
            {
                var builder = WebApplication.CreateBuilder(args);
                builder.Services.AddTokenBuckets();
                builder.Services.AddMvc(o => {|RG0015:o.EnableEndpointRouting = false|});
                var app = builder.Build();
                app.UseAuthentication();
                app.UseTokenBuckets();
                {|RG0015:app.UseMvc()|};
                app.Run();
            }
        }
        """ + LimitedController);

    [Fact]
    public Task RG0015_UseMvcWithDefaultRoute_and_an_options_object_are_found_too() => VerifyApp("""
        public static class Program
        {
            public static void Main(string[] args)
            {
                var builder = WebApplication.CreateBuilder(args);
                builder.Services.AddTokenBuckets();
                builder.Services.AddMvc(o => Configure(o));
                var app = builder.Build();
                app.UseTokenBuckets();
                {|RG0015:app.UseMvcWithDefaultRoute()|};
                app.Run();
            }

            private static void Configure(MvcOptions options)
            {
                {|RG0015:options.EnableEndpointRouting = false|};
            }
        }

        [TokenBucket(10, 1)]
        public sealed class HomeController : Controller
        {
            public string Index() => "home";
        }
        """);

    [Fact]
    public Task RG0015_is_silent_when_no_controller_has_a_limit_or_endpoint_routing_stays_on() => VerifyApp("""
        public static class Program
        {
            public static void Main(string[] args)
            {
                var builder = WebApplication.CreateBuilder(args);
                builder.Services.AddTokenBuckets();
                builder.Services.AddMvc(o => o.EnableEndpointRouting = true);
                var app = builder.Build();
                app.UseTokenBuckets();
                app.MapGet("/ping", [TokenBucket(10, 5)] () => "pong");
                app.MapControllers();
                app.Run();
            }
        }

        public sealed class HomeController : Controller
        {
            public string Index() => "home";
        }
        """);

    [Fact]
    public async Task RG0015_says_what_to_change()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.ConsoleApplication, Usings + """
            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddTokenBuckets();
            builder.Services.AddMvc(o => o.EnableEndpointRouting = false);
            var app = builder.Build();
            app.UseTokenBuckets();
            app.Run();
            """ + LimitedController);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(
            "EnableEndpointRouting = false makes MVC route controllers without endpoint routing, where their token-bucket limits are never applied: controllers with limits need endpoint routing: remove EnableEndpointRouting = false, and map them with app.MapControllers() (or app.MapControllerRoute(...) for conventional routes) in place of app.UseMvc()",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }
}
