using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using RateGuard.Testing;

namespace RateGuard.Integration.Tests.Binding;

/// <summary>
/// What the app says about wiring that makes limits looser than they read: forwarded headers that nothing applies to
/// an <c>ip</c> key, and buckets kept in memory.
/// </summary>
public sealed class WiringWarningsTests
{
    private enum Forwarding { None, BeforeLimits, AfterLimits }

    [Fact]
    public async Task Forwarded_requests_keyed_on_the_proxy_address_share_its_bucket_and_are_reported_once()
    {
        await using var app = await StartAsync(Forwarding.None);

        // Three clients behind one proxy (the test server's 127.0.0.1): one bucket of two between them.
        var statuses = new List<int>();
        foreach (var client in new[] { "198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4" })
        {
            statuses.Add(await app.GetAsync("/by-ip", client));
        }

        Assert.Equal([200, 200, 429, 429], statuses);
        var warning = Assert.Single(app.Logs.GetSnapshot(), l => l.Id.Name == "ForwardedHeadersNotApplied");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("bucket 'GET /by-ip'", warning.Message);
        Assert.Contains("connection's address 127.0.0.1", warning.Message);
        Assert.Contains("app.UseForwardedHeaders() before app.UseTokenBuckets()", warning.Message);
        Assert.Contains("KnownProxies or KnownIPNetworks", warning.Message);
    }

    [Fact]
    public async Task Forwarded_headers_applied_before_the_limits_give_each_client_its_bucket_and_no_warning()
    {
        await using var app = await StartAsync(Forwarding.BeforeLimits);

        var statuses = new List<int>();
        foreach (var client in new[] { "198.51.100.1", "198.51.100.2", "198.51.100.3" })
        {
            statuses.Add(await app.GetAsync("/by-ip", client));
            statuses.Add(await app.GetAsync("/by-ip", client));
        }

        Assert.Equal(Enumerable.Repeat(200, 6), statuses);
        Assert.DoesNotContain(app.Logs.GetSnapshot(), l => l.Id.Name == "ForwardedHeadersNotApplied");
    }

    [Fact]
    public async Task Forwarded_headers_applied_after_the_limits_are_reported()
    {
        await using var app = await StartAsync(Forwarding.AfterLimits);

        await app.GetAsync("/by-ip", "198.51.100.1");

        Assert.Single(app.Logs.GetSnapshot(), l => l.Id.Name == "ForwardedHeadersNotApplied");
    }

    [Fact]
    public async Task Forwarded_requests_to_limits_keyed_on_something_else_and_requests_without_the_header_are_not_reported()
    {
        await using var app = await StartAsync(Forwarding.None);

        await app.GetAsync("/by-header", "198.51.100.1");
        await app.GetAsync("/by-ip", forwardedFor: null);

        Assert.DoesNotContain(app.Logs.GetSnapshot(), l => l.Id.Name == "ForwardedHeadersNotApplied");
    }

    [Fact]
    public async Task Buckets_in_memory_are_a_warning_for_the_first_app_of_a_process_and_debug_for_the_next()
    {
        var levels = new List<LogLevel>();
        for (var i = 0; i < 3; i++)
        {
            await using var app = await StartAsync(Forwarding.None);
            levels.Add(Assert.Single(app.Logs.GetSnapshot(), l => l.Id.Name == "InMemoryStore").Level);
        }

        // Whether the first one here was the process's first depends on the tests before it; the ones after it are not.
        Assert.Contains(levels[0], new[] { LogLevel.Warning, LogLevel.Debug });
        Assert.Equal([LogLevel.Debug, LogLevel.Debug], levels.Skip(1));
    }

    private static async Task<WarningsApp> StartAsync(Forwarding forwarding)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders().AddFakeLogging().AddFilter("RateGuard", LogLevel.Debug);
        builder.Services.AddTokenBuckets();
        builder.Services.UseTestClientAddresses();
        builder.Services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            o.KnownProxies.Add(IPAddress.Loopback);
        });
        var app = builder.Build();
        if (forwarding == Forwarding.BeforeLimits)
        {
            app.UseForwardedHeaders();
        }
        app.UseTokenBuckets();
        if (forwarding == Forwarding.AfterLimits)
        {
            app.UseForwardedHeaders();
        }
        app.MapGet("/by-ip", [TokenBucket(capacity: 2, rate: 0.001, Key = "ip")] () => "ip");
        app.MapGet("/by-header", [TokenBucket(capacity: 2, rate: 0.001, Key = "header:X-Forwarded-For")] () => "header");
        await app.StartAsync();
        return new WarningsApp(app);
    }

    private sealed class WarningsApp(WebApplication app) : IAsyncDisposable
    {
        private readonly HttpClient _client = app.GetTestClient();

        public FakeLogCollector Logs { get; } = app.Services.GetRequiredService<FakeLogCollector>();

        public async Task<int> GetAsync(string path, string? forwardedFor)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (forwardedFor is not null)
            {
                request.Headers.Add("X-Forwarded-For", forwardedFor);
            }
            using var response = await _client.SendAsync(request);
            return (int)response.StatusCode;
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await app.DisposeAsync();
        }
    }
}
