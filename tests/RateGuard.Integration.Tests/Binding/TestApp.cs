using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.NoGenerator.Fixture;
using RateGuard.Testing;

namespace RateGuard.Integration.Tests.Binding;

/// <summary>A body type that counts how often model binding constructs it.</summary>
public sealed class CountedBody
{
    private static int s_constructions;

    public CountedBody() => Interlocked.Increment(ref s_constructions);

    public static int Constructions => Volatile.Read(ref s_constructions);

    public string? Name { get; set; }
}

/// <summary>The same, for the MVC endpoint, so the two tests cannot see each other's count.</summary>
public sealed class CountedMvcBody
{
    private static int s_constructions;

    public CountedMvcBody() => Interlocked.Increment(ref s_constructions);

    public static int Constructions => Volatile.Read(ref s_constructions);

    public string? Name { get; set; }
}

[ApiController]
public sealed class BindingController : ControllerBase
{
    [HttpPost("/mvc/bind")]
    [TokenBucket(capacity: 1, rate: 0.001)]
    public string Bind([FromBody] CountedMvcBody body) => body.Name ?? "";
}

/// <summary>Two conventionally routed actions: one route pattern, two endpoints, two buckets.</summary>
public sealed class ConventionalController : Controller
{
    [TokenBucket(capacity: 1, rate: 0.001)]
    public string First() => "first";

    [TokenBucket(capacity: 1, rate: 0.001)]
    public string Second() => "second";
}

/// <summary>An app built in the test: endpoints with counted bodies, and endpoints the generator never saw.</summary>
public sealed class TestApp : IAsyncDisposable
{
    private TestApp(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public static async Task<TestApp> StartAsync(Action<TokenBucketOptions>? configure = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets(configure);
        builder.Services.UseTestClientAddresses();
        builder.Services.AddControllers()
            .AddApplicationPart(typeof(BindingController).Assembly)
            .AddApplicationPart(typeof(FallbackController).Assembly)
            .AddApplicationPart(typeof(RateGuard.Generated.Fixture.LibraryController).Assembly);

        var app = builder.Build();
        app.UseTokenBuckets();
        app.MapPost("/minimal/bind", [TokenBucket(capacity: 1, rate: 0.001)] (CountedBody body) => body.Name);
        // Limits the generator cannot see: a handler from an assembly compiled without it, and a non-constant limit.
        app.MapGet("/fallback/minimal", FallbackHandlers.Handle);
        app.MapGet("/fallback/dynamic", () => "dynamic").WithMetadata(new TokenBucketAttribute(int.Parse("4"), 0.25) { Key = "header:X-Dynamic" });
        app.MapGet("/two-keys", [TokenBucket(3, 0.25, Key = "header:X-A")][TokenBucket(5, 0.25)] () => "two");
        app.MapGet("/keys-first", [TokenBucket(2, 0.01)][TokenBucket(5, 0.01, Key = "header:X-B")] () => "keys");
        app.MapGet("/stacked", [TokenBucket(20, 0.01, Key = "global", Bucket = "budget")][TokenBucket(2, 0.01, Key = "ip")] () => "stacked");
        app.MapControllers();
        app.MapControllerRoute("conventional", "{controller}/{action}");
        await app.StartAsync();
        return new TestApp(app);
    }

    public async ValueTask DisposeAsync() => await App.DisposeAsync();
}
