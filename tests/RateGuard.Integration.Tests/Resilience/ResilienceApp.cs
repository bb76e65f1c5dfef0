using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Testing;

namespace RateGuard.Integration.Tests.Resilience;

/// <summary>A small app over the given settings, for failure, override and key tests.</summary>
public sealed class ResilienceApp : IAsyncDisposable
{
    private ResilienceApp(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public static async Task<ResilienceApp> StartAsync(Dictionary<string, string?> settings)
    {
        // On two cores, the Redis client's reaction to a killed server blocks thread-pool threads for a moment and
        // starves every request in the process for up to a second (measured: 0.5-1 s stalls with 3-4 pool threads).
        // StackExchange.Redis's own guidance for small machines is a higher thread-pool minimum; this app follows it.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(settings);
        // Thousands of requests a second would fill the console logger's queue, and a full queue blocks the request
        // that logs: keep request logging out of latency measurements.
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
        builder.Services.AddHealthChecks().AddTokenBuckets();
        builder.Services.UseTestClientAddresses();
        var app = builder.Build();
        app.UseTokenBuckets();
        app.MapGet("/limited", [TokenBucket(capacity: 5, rate: 1)] () => "limited");
        app.MapGet("/critical", [TokenBucket(capacity: 5, rate: 1, Bucket = "critical")] () => "critical");
        app.MapGet("/shared/a", [TokenBucket(capacity: 2, rate: 0.01, Bucket = "shared")] () => "a");
        app.MapGet("/shared/b", [TokenBucket(capacity: 2, rate: 0.01, Bucket = "shared")] () => "b");
        app.MapGet("/costly", [TokenBucket(capacity: 10, rate: 1, Cost = 4, Bucket = "costly")] () => "costly");
        app.MapGet("/keyed", [TokenBucket(capacity: 5, rate: 1, Key = "header:X-Api-Key", Bucket = "reload-keyed")] () => "keyed");
        app.MapGet("/unlimited", () => "unlimited");
        app.MapHealthChecks("/health");
        await app.StartAsync();
        return new ResilienceApp(app);
    }

    public async ValueTask DisposeAsync() => await App.DisposeAsync();
}
