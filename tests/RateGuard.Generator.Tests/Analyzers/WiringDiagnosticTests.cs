using System.Globalization;
using Microsoft.CodeAnalysis;
using static RateGuard.Generator.Tests.Infrastructure.AnalyzerHarness;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>RG0010: an app that uses limits but never wires the runtime.</summary>
public sealed class WiringDiagnosticTests
{
    [Fact]
    public Task RG0010_an_app_without_AddTokenBuckets_and_UseTokenBuckets_warns_once_at_the_first_limit() => VerifyApp("""
        public static class Program
        {
            public static void Main(string[] args)
            {
                var builder = WebApplication.CreateBuilder(args);
                var app = builder.Build();
                app.MapGet("/a", [{|RG0010:TokenBucket(10, 5)|}] () => "a");
                app.MapGet("/b", [TokenBucket(10, 5)] () => "b");
                app.Run();
            }
        }
        """);

    [Fact]
    public async Task RG0010_names_both_calls_when_both_are_missing()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.ConsoleApplication, Usings + """
            var app = WebApplication.CreateBuilder(args).Build();
            app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
            app.Run();
            """);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("RG0010", diagnostic.Id);
        Assert.Equal("Token-bucket limits are never enforced because this app never calls AddTokenBuckets() and UseTokenBuckets(): add builder.Services.AddTokenBuckets(...) and app.UseTokenBuckets()", diagnostic.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal("AddTokenBuckets,UseTokenBuckets", diagnostic.Properties["MissingCalls"]);
    }

    [Fact]
    public async Task RG0010_names_only_the_missing_call()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.ConsoleApplication, Usings + """
            public static class Program
            {
                public static void Main(string[] args)
                {
                    var builder = WebApplication.CreateBuilder(args);
                    builder.Services.AddTokenBuckets();
                    var app = builder.Build();
                    app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
                    app.Run();
                }
            }
            """);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("RG0010", diagnostic.Id);
        Assert.Equal("Token-bucket limits are never enforced because this app never calls UseTokenBuckets(): add app.UseTokenBuckets()", diagnostic.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal("UseTokenBuckets", diagnostic.Properties["MissingCalls"]);
    }

    [Fact]
    public async Task RG0010_the_health_check_s_AddTokenBuckets_does_not_count_as_wiring_the_services()
    {
        var diagnostics = await AnalyzeAsync(OutputKind.ConsoleApplication, Usings + """
            public static class Program
            {
                public static void Main(string[] args)
                {
                    var builder = WebApplication.CreateBuilder(args);
                    builder.Services.AddHealthChecks().AddTokenBuckets();
                    var app = builder.Build();
                    app.UseTokenBuckets();
                    app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
                    app.Run();
                }
            }
            """);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("RG0010", diagnostic.Id);
        Assert.Equal("Token-bucket limits are never enforced because this app never calls AddTokenBuckets(): add builder.Services.AddTokenBuckets(...)", diagnostic.GetMessage(CultureInfo.InvariantCulture));
        Assert.Equal("AddTokenBuckets", diagnostic.Properties["MissingCalls"]);
    }

    [Fact]
    public Task RG0010_is_silent_when_both_calls_are_made() => VerifyApp("""
        public static class Program
        {
            public static void Main(string[] args)
            {
                var builder = WebApplication.CreateBuilder(args);
                builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
                var app = builder.Build();
                app.UseTokenBuckets();
                app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
                app.Run();
            }
        }
        """);

    [Fact]
    public Task RG0010_is_silent_in_a_library_whose_host_app_does_the_wiring() => VerifyLibrary("""
        public static class Routes
        {
            public static void Map(WebApplication app) => app.MapGet("/a", [TokenBucket(10, 5)] () => "a");
        }
        """);
}
