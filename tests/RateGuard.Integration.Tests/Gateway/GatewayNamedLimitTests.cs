using Microsoft.AspNetCore.Builder;
using RateGuard.Integration.Tests.NamedLimits;
using Yarp.ReverseProxy.Configuration;
using static RateGuard.Integration.Tests.Gateway.ProxyHost;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>
/// <c>TokenBucket.Limit</c> in a route's metadata uses a limit declared in code by name: its one bucket is shared by the
/// routes and the app's own endpoints that use the name, across proxies over one Redis. An undeclared name, or a name
/// beside the settings it stands for, stops the proxy.
/// </summary>
public sealed class GatewayNamedLimitTests(GatewayRedisFixture redis) : IClassFixture<GatewayRedisFixture>
{
    private static RouteConfig[] Routes(string limit = NamedLimitApp.Writes) =>
    [
        Route("notes", "/notes/{**rest}", ("TokenBucket.Limit", limit)),
        Route("drafts", "/drafts/{**rest}", ("TokenBucket.Limit", limit)),
    ];

    [Fact]
    public async Task Routes_naming_a_declared_limit_share_its_one_bucket_with_the_apps_endpoints_across_proxies_in_Redis()
    {
        await using var backend = await CountingBackend.StartAsync();
        var settings = new Dictionary<string, string?> { ["Redis"] = redis.Server.Configuration, ["KeyPrefix"] = "gw" + Guid.NewGuid().ToString("N") };
        // Each proxy also serves an endpoint of its own that uses the limit by name.
        static void Local(WebApplication app) => app.MapGet("/local", () => "local").RequireTokenBucket(NamedLimitApp.Writes);
        await using var first = await StartAsync(backend, Routes(), settings, middleware: Local);
        await using var second = await StartAsync(backend, Routes(), settings, middleware: Local);

        var user = ("X-User", "ann");
        var responses = new List<Response>
        {
            await first.GetAsync("/notes/1", user),
            await second.GetAsync("/drafts/1", user),
            await first.GetAsync("/local", user),
            await second.GetAsync("/notes/2", user),
            await first.GetAsync("/drafts/2", user),
            await second.GetAsync("/local", user),
            await first.GetAsync("/notes/3", user),
        };

        Assert.Equal([200, 200, 200, 200, 200, 429, 429], responses.Select(r => r.Status));
        Assert.All(responses, r => Assert.Equal("\"writes\";q=5;w=5000", r.Header("RateLimit-Policy")));
        Assert.NotNull(responses[^1].Header("Retry-After"));
        // Four of the admitted requests were proxied; the refused ones never reached the backend.
        Assert.Equal(4, backend.Requests);
        // One bucket, in Redis, named after the limit.
        var keys = redis.Server.Command("KEYS", settings["KeyPrefix"] + "*");
        Assert.Contains(settings["KeyPrefix"] + ":writes:{ann}", keys);
    }

    [Fact]
    public async Task An_undeclared_name_stops_the_proxy_naming_the_declared_limits()
    {
        await using var backend = await CountingBackend.StartAsync();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(backend, Routes("wrtes")));

        // YARP wraps each route's exception: the route's own names the limit.
        var message = Assert.Single(Chain(failure), e => e.Message.StartsWith("Route 'notes'", StringComparison.Ordinal)).Message;
        Assert.Contains(Chain(failure), e => e.Message.StartsWith("Route 'drafts'", StringComparison.Ordinal));
        Assert.StartsWith("Route 'notes': metadata 'TokenBucket.Limit' = 'wrtes' is invalid: No token-bucket limit is named 'wrtes'", message);
        // The process may know other declared limits too (the registry is the process's): 'writes' is among them.
        Assert.Matches("the declared limits are [^)]*'writes'", message);
        Assert.Contains("Did you mean 'writes'?", message);
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task A_name_beside_the_settings_it_stands_for_stops_the_proxy()
    {
        await using var backend = await CountingBackend.StartAsync();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(backend,
            [Route("notes", "/notes/{**rest}", ("TokenBucket.Limit", "writes"), ("TokenBucket.Capacity", "10"), ("TokenBucket.Key", "global"))]));

        Assert.Contains(
            "Route 'notes': metadata 'TokenBucket.Limit' = 'writes' names a declared limit, and 'TokenBucket.Capacity', 'TokenBucket.Key' describe the limit too: "
            + LimitRules.NamedLimitAlone + ". Remove 'TokenBucket.Capacity', 'TokenBucket.Key', or 'TokenBucket.Limit'.",
            Chain(failure).Select(e => e.Message));
    }

    [Fact]
    public async Task A_name_beside_a_count_and_a_maximum_cost_stops_the_proxy()
    {
        await using var backend = await CountingBackend.StartAsync();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(backend,
            [Route("notes", "/notes/{**rest}", ("TokenBucket.Limit", "writes"), ("TokenBucket.Count", "failures"), ("TokenBucket.MaxCost", "100"))]));

        Assert.Contains(
            "Route 'notes': metadata 'TokenBucket.Limit' = 'writes' names a declared limit, and 'TokenBucket.Count', 'TokenBucket.MaxCost' describe the limit too: "
            + LimitRules.NamedLimitAlone + ". Remove 'TokenBucket.Count', 'TokenBucket.MaxCost', or 'TokenBucket.Limit'.",
            Chain(failure).Select(e => e.Message));
    }
}
