using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Sharing;

/// <summary>
/// Limits on route groups and controllers, in one app that can run as several instances over one Redis: groups with a
/// shared limit, nested groups, two limits on one group, the per-endpoint option, and the controllers beside it.
/// </summary>
public sealed class SharingApp : IAsyncDisposable
{
    private SharingApp(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public static async Task<SharingApp> StartAsync(RedisServer? redis, string keyPrefix)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets(o =>
        {
            o.KeyPrefix = keyPrefix;
            if (redis is not null)
            {
                o.Redis = redis.Configuration;
                // About sharing, not failures: a loaded machine must not turn a decision into fail-open.
                o.Timeout = TimeSpan.FromSeconds(5);
            }
        });
        // This file's controllers, and no other test's.
        builder.Services.AddControllers().ConfigureApplicationPartManager(ControllersOf.Only<SharingApp>);

        var app = builder.Build();
        app.UseTokenBuckets();

        var todos = app.MapGroup("/todos").RequireTokenBucket(capacity: 4, rate: 0.001, key: "header:X-User");
        todos.MapGet("/", () => "list");
        todos.MapGet("/{id}", (string id) => id);
        todos.MapPost("/", () => "created");
        todos.MapGet("/health", () => "healthy").DisableTokenBucket();

        // A limit on the outer group covers the inner group's endpoints too; the inner group's own is keyed by tenant.
        var api = app.MapGroup("/api").RequireTokenBucket(capacity: 5, rate: 0.001, key: "header:X-User");
        api.MapGet("/status", () => "status");
        var tenant = api.MapGroup("/tenants/{tenant}").RequireTokenBucket(capacity: 3, rate: 0.001, key: "route:tenant");
        tenant.MapGet("/orders", (string tenant) => tenant);
        tenant.MapGet("/invoices", (string tenant) => tenant);

        var each = app.MapGroup("/each").RequireTokenBucket(capacity: 2, rate: 0.001, key: "header:X-User", perEndpoint: true);
        each.MapGet("/a", () => "a");
        each.MapGet("/b", () => "b");

        var twice = app.MapGroup("/twice")
            .RequireTokenBucket(capacity: 3, rate: 0.001, key: "header:X-User")
            .RequireTokenBucket(capacity: 10, rate: 0.001, key: "global");
        twice.MapGet("/a", () => "a");
        twice.MapGet("/b", () => "b");

        app.MapControllers();
        await app.StartAsync();
        return new SharingApp(app);
    }

    public async ValueTask DisposeAsync() => await App.DisposeAsync();
}
