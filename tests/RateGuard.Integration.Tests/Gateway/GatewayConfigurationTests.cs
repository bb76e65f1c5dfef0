using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RateGuard.Interop;
using Yarp.ReverseProxy.Configuration;
using static RateGuard.Integration.Tests.Gateway.ProxyHost;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>How route limits load, reload and fail, and how they sit beside YARP's own rate-limiter policies.</summary>
public sealed class GatewayConfigurationTests(GatewayRedisFixture redis) : IClassFixture<GatewayRedisFixture>
{
    private const string YarpConfigCategory = "Yarp.ReverseProxy.Management.ProxyConfigManager";

    private static RouteConfig Api(string capacity) =>
        Route("api", "/api/{**rest}", ("TokenBucket.Capacity", capacity), ("TokenBucket.Rate", "0.01"), ("TokenBucket.Key", "header:X-Client"));

    [Fact]
    public async Task A_reload_that_changes_a_routes_capacity_applies_without_a_restart_and_an_invalid_reload_is_logged_and_refused_whole()
    {
        await using var backend = await CountingBackend.StartAsync();
        await using var proxy = await StartAsync(backend, [Api("2")], new() { ["Redis"] = redis.Server.Configuration, ["KeyPrefix"] = "gw" + Guid.NewGuid().ToString("N") });

        Assert.Equal([200, 200, 429], await StatusesAsync(proxy, "before", 3));

        proxy.Update([Api("4")]);
        await EventuallyAsync(() => ProxyCapacity(proxy) == 4, "the proxy endpoint to carry capacity 4");
        Assert.Equal([200, 200, 200, 200, 429], await StatusesAsync(proxy, "after", 5));

        proxy.Update([Api("0")]);
        var refused = await EventuallyAsync(() => proxy.Logs.GetSnapshot().FirstOrDefault(r => r.Category == YarpConfigCategory && r.Level == LogLevel.Error), "YARP to log the refused reload");
        Assert.Contains(CapacityZero, Chain(refused.Exception).Select(e => e.Message));
        Assert.Equal(4, ProxyCapacity(proxy));
        Assert.Equal([200, 200, 200, 200, 429], await StatusesAsync(proxy, "after-refused", 5));
        Assert.Equal(2 + 4 + 4, backend.Requests);
    }

    // The rule in the words of every other place that refuses a limit (LimitRules), then the route's own example.
    private const string CapacityZero =
        "Route 'api': metadata 'TokenBucket.Capacity' = '0' is invalid: " + LimitRules.Capacity + ". Write a whole number such as 10.";

    public static TheoryData<string[], string> InvalidLimits => new()
    {
        { ["TokenBucket.Capacity", "0", "TokenBucket.Rate", "1"], CapacityZero },
        {
            ["TokenBucket.Capacity", "5", "TokenBucket.Rate", "1", "TokenBucket.Key", "keyy:x"],
            $"Route 'api': metadata 'TokenBucket.Key' = 'keyy:x' is invalid: a key is one of {TokenBucketKey.ValidForms}, or 'resolver:<name>' for a resolver registered in code. Write one of these forms, such as 'header:X-Api-Key'."
        },
        {
            ["TokenBucket.Capacity", "2", "TokenBucket.Rate", "1", "TokenBucket.Cost", "3"],
            "Route 'api': metadata 'TokenBucket.Cost' = '3' is invalid: with a capacity of 2, " + LimitRules.CostWithinCapacity + "."
        },
        {
            ["TokenBucket.Capasity", "5", "TokenBucket.Rate", "1"],
            "Route 'api': metadata key 'TokenBucket.Capasity' (value '5') is not a token-bucket setting, so it would limit nothing. Did you mean 'TokenBucket.Capacity'?"
        },
        {
            ["TokenBucket.Capacity", "5", "redis-rate-limiter.burstCapacity", "6", "TokenBucket.Rate", "1"],
            "Route 'api': metadata 'TokenBucket.Capacity' = '5' and 'redis-rate-limiter.burstCapacity' = '6' both set the limit's capacity, with different values. Keep one of the two keys."
        },
        {
            ["TokenBucket.Rate", "1,5", "TokenBucket.Capacity", "5"],
            "Route 'api': metadata 'TokenBucket.Rate' = '1,5' is invalid: " + LimitRules.Rate + ". Write a number such as 5 or 0.5, with '.' as the decimal separator."
        },
        {
            ["TokenBucket.Capacity", "5", "TokenBucket.Rate", "1", "TokenBucket.Count", "errors"],
            "Route 'api': metadata 'TokenBucket.Count' = 'errors' is invalid: " + LimitRules.Count + ". Write one of these forms, such as 'failures'."
        },
        {
            ["TokenBucket.Capacity", "5", "TokenBucket.Rate", "1", "TokenBucket.Cost", "2", "TokenBucket.MaxCost", "1"],
            "Route 'api': metadata 'TokenBucket.MaxCost' = '1' is invalid: with a cost of 2 and a rate of 1, " + LimitRules.MaxCost + ". Write a whole number of tokens such as 1000, or leave the key out so that a request costs what it took up front."
        },
        {
            ["TokenBucket.Capacity", "5", "TokenBucket.Rate", "1", "TokenBucket.MaxCost", "lots"],
            "Route 'api': metadata 'TokenBucket.MaxCost' = 'lots' is invalid: " + LimitRules.MaxCost + ". Write a whole number of tokens such as 1000, or leave the key out so that a request costs what it took up front."
        },
        {
            ["TokenBucket.Rate", "1"],
            "Route 'api': metadata sets 'TokenBucket.Rate' but not 'TokenBucket.Capacity' (or Spring Cloud Gateway's 'redis-rate-limiter.burstCapacity'); a token-bucket limit needs both a capacity and a rate. Add 'TokenBucket.Capacity'."
        },
    };

    [Theory]
    [MemberData(nameof(InvalidLimits))]
    public async Task An_invalid_route_limit_stops_startup_with_a_message_naming_the_route_the_key_the_value_and_the_fix(string[] metadata, string message)
    {
        await using var backend = await CountingBackend.StartAsync();
        var pairs = metadata.Chunk(2).Select(p => (p[0], p[1])).ToArray();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(backend, [Route("api", "/api/{**rest}", pairs)]));

        Assert.Contains(message, Chain(failure).Select(e => e.Message));
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task WithTokenBuckets_without_AddTokenBuckets_on_the_proxy_builder_stops_startup_naming_the_fix()
    {
        await using var backend = await CountingBackend.StartAsync();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(backend, [Api("2")], checkRoutes: false));

        Assert.Equal(
            "MapReverseProxy().WithTokenBuckets() found route 'api' unchecked: call AddTokenBuckets() on the reverse proxy's builder, as in services.AddReverseProxy().LoadFromConfig(...).AddTokenBuckets(), so that every route's limits are checked when the configuration loads and reloads.",
            failure.Message);
    }

    [Fact]
    public async Task A_routes_YARP_RateLimiterPolicy_backed_by_RateGuards_adapter_limits_with_UseRateLimiter()
    {
        await using var backend = await CountingBackend.StartAsync();
        var policy = new TokenBucketPolicy("gateway-adapter", capacity: 2, rate: 0.01);
        await using var proxy = await StartAsync(backend,
            [Route("limited", "/limited/{**rest}") with { RateLimiterPolicy = "adapter" }, Route("open", "/open/{**rest}")],
            services: s => s.AddRateLimiter(o =>
            {
                o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                o.AddPolicy("adapter", context => TokenBucketRateLimitPartition.Get(context, "gateway-client", policy));
            }),
            middleware: app => app.UseRateLimiter());

        var limited = await StatusesAsync(proxy, "x", 4, "/limited/a");
        var open = await StatusesAsync(proxy, "x", 3, "/open/a");

        Assert.Equal([200, 200, 429, 429], limited);
        Assert.Equal([200, 200, 200], open);
        Assert.Equal(2 + 3, backend.Requests);
    }

    private static async Task<List<int>> StatusesAsync(ProxyHost proxy, string client, int count, string path = "/api/a")
    {
        var statuses = new List<int>();
        for (var i = 0; i < count; i++)
        {
            statuses.Add((await proxy.GetAsync(path, ("X-Client", client))).Status);
        }
        return statuses;
    }

    // The capacity on the proxy endpoint routing currently matches for route 'api'.
    private static int? ProxyCapacity(ProxyHost proxy) =>
        proxy.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Where(e => e.DisplayName == "api")
            .Select(e => e.Metadata.GetMetadata<TokenBucketAttribute>()?.Capacity)
            .SingleOrDefault();

    private static async Task EventuallyAsync(Func<bool> condition, string what) =>
        await EventuallyAsync(() => condition() ? (object)true : null, what);

    // Polls with a generous limit: the change is applied on another thread, and only its outcome is asserted.
    private static async Task<T> EventuallyAsync<T>(Func<T?> probe, string what) where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited 30 s for {what}.");
            }
            await Task.Delay(20);
        }
    }
}
