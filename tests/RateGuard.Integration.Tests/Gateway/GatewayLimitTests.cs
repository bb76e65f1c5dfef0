using RateGuard.TestSupport;
using static RateGuard.Integration.Tests.Gateway.ProxyHost;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>Limits written in YARP routes' metadata, enforced by RateGuard in front of a real backend.</summary>
public sealed class GatewayLimitTests(GatewayRedisFixture redis) : IClassFixture<GatewayRedisFixture>
{
    // Prefix per test, so tests sharing the class's Redis never share a bucket.
    private Dictionary<string, string?> Redis() => new()
    {
        ["Redis"] = redis.Server.Configuration,
        ["KeyPrefix"] = "gw" + Guid.NewGuid().ToString("N"),
    };

    [Fact]
    public async Task Two_routes_admit_exactly_their_own_capacities_in_Redis_and_the_backend_receives_only_the_admitted_requests()
    {
        await using var backend = await CountingBackend.StartAsync();
        // 0.01 tokens a second: no token comes back during the test, so the counts are exact.
        var settings = Redis();
        await using var proxy = await StartAsync(backend,
        [
            Route("orders", "/orders/{**rest}", ("TokenBucket.Capacity", "3"), ("TokenBucket.Rate", "0.01"), ("TokenBucket.Key", "global")),
            Route("search", "/search/{**rest}", ("TokenBucket.Capacity", "5"), ("TokenBucket.Rate", "0.01"), ("TokenBucket.Key", "global")),
        ], settings);

        var orders = new List<int>();
        var search = new List<int>();
        for (var i = 0; i < 8; i++)
        {
            orders.Add((await proxy.GetAsync("/orders/1")).Status);
            search.Add((await proxy.GetAsync("/search?q=x")).Status);
        }

        Assert.Equal([200, 200, 200, 429, 429, 429, 429, 429], orders);
        Assert.Equal([200, 200, 200, 200, 200, 429, 429, 429], search);
        Assert.Equal(8, backend.Requests);
        // The buckets are Redis's, not the process's.
        var keys = redis.Server.Command("KEYS", settings["KeyPrefix"] + "*");
        Assert.Contains("orders", keys);
        Assert.Contains("search", keys);
    }

    [Fact]
    public async Task Spring_Cloud_Gateway_names_give_the_same_statuses_and_headers_as_RateGuard_names()
    {
        await using var backend = await CountingBackend.StartAsync();
        await using var rateGuard = await StartAsync(backend,
        [
            Route("api", "/api/{**rest}", ("TokenBucket.Capacity", "5"), ("TokenBucket.Rate", "0.01"), ("TokenBucket.Cost", "2"), ("TokenBucket.Key", "header:X-Client")),
        ]);
        await using var spring = await StartAsync(backend,
        [
            Route("api", "/api/{**rest}", ("redis-rate-limiter.burstCapacity", "5"), ("redis-rate-limiter.replenishRate", "0.01"), ("redis-rate-limiter.requestedTokens", "2"), ("key-resolver", "header:X-Client")),
        ]);

        string[] compared = ["RateLimit", "RateLimit-Policy", "Retry-After"];
        for (var i = 0; i < 4; i++)
        {
            var expected = await rateGuard.GetAsync("/api/x", ("X-Client", "c1"));
            var actual = await spring.GetAsync("/api/x", ("X-Client", "c1"));
            Assert.Equal(i < 2 ? 200 : 429, expected.Status);
            Assert.Equal(expected.Status, actual.Status);
            Assert.NotNull(expected.Header("RateLimit-Policy"));
            foreach (var name in compared)
            {
                Assert.Equal(expected.Header(name), actual.Header(name));
            }
        }
        Assert.Equal(4, backend.Requests);
    }

    [Fact]
    public async Task Legacy_headers_carry_Spring_Cloud_Gateways_four_values_on_admitted_and_rejected_responses()
    {
        await using var backend = await CountingBackend.StartAsync();
        var settings = Redis();
        settings["Headers"] = "Legacy";
        await using var proxy = await StartAsync(backend,
        [
            Route("api", "/api/{**rest}", ("redis-rate-limiter.burstCapacity", "2"), ("redis-rate-limiter.replenishRate", "0.01"), ("redis-rate-limiter.requestedTokens", "1")),
        ], settings);

        var responses = new[] { await proxy.GetAsync("/api/a"), await proxy.GetAsync("/api/a"), await proxy.GetAsync("/api/a") };

        Assert.Equal([200, 200, 429], responses.Select(r => r.Status));
        Assert.Equal(["1", "0", "0"], responses.Select(r => r.Header("X-RateLimit-Remaining")));
        foreach (var response in responses)
        {
            Assert.Equal("0.01", response.Header("X-RateLimit-Replenish-Rate"));
            Assert.Equal("2", response.Header("X-RateLimit-Burst-Capacity"));
            Assert.Equal("1", response.Header("X-RateLimit-Requested-Tokens"));
            Assert.Null(response.Header("RateLimit"));
        }
        Assert.Equal(2, backend.Requests);
    }

    [Fact]
    public async Task A_request_without_the_routes_header_key_is_answered_403_by_RateGuard_and_never_reaches_the_backend()
    {
        await using var backend = await CountingBackend.StartAsync();
        await using var proxy = await StartAsync(backend,
        [
            Route("keyed", "/keyed/{**rest}", ("TokenBucket.Capacity", "5"), ("TokenBucket.Rate", "0.01"), ("TokenBucket.Key", "header:X-Api-Key")),
        ], Redis());

        var missing = await proxy.GetAsync("/keyed/a");
        var keyed = await proxy.GetAsync("/keyed/a", ("X-Api-Key", "k1"));

        Assert.Equal(403, missing.Status);
        Assert.Equal("application/problem+json", missing.Header("Content-Type"));
        Assert.Equal(200, keyed.Status);
        Assert.Equal(1, backend.Requests);
    }

    [Fact]
    public async Task A_labelled_second_limit_applies_with_the_first_and_the_tighter_one_decides()
    {
        await using var backend = await CountingBackend.StartAsync();
        await using var proxy = await StartAsync(backend,
        [
            Route("api", "/api/{**rest}",
                ("TokenBucket.Capacity", "10"), ("TokenBucket.Rate", "0.01"), ("TokenBucket.Key", "header:X-Client"),
                ("TokenBucket.everyone.Capacity", "3"), ("TokenBucket.everyone.Rate", "0.01"), ("TokenBucket.everyone.Key", "global")),
        ]);

        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await proxy.GetAsync("/api/a", ("X-Client", "c" + i))).Status);
        }
        var rejected = await proxy.GetAsync("/api/a", ("X-Client", "c9"));

        Assert.Equal([200, 200, 200, 429], statuses);
        Assert.Contains("\"api everyone\"", rejected.Header("RateLimit-Policy"));
        Assert.Equal(3, backend.Requests);
    }

    [Fact]
    public async Task A_TokenBuckets_Buckets_override_named_by_the_route_id_changes_the_routes_limit_as_for_any_endpoint()
    {
        await using var backend = await CountingBackend.StartAsync();
        var settings = Redis();
        settings["Buckets:api:Capacity"] = "1";
        await using var proxy = await StartAsync(backend,
        [
            Route("api", "/api/{**rest}", ("TokenBucket.Capacity", "3"), ("TokenBucket.Rate", "0.01")),
        ], settings);

        var statuses = new[] { (await proxy.GetAsync("/api/a")).Status, (await proxy.GetAsync("/api/a")).Status };

        Assert.Equal([200, 429], statuses);
        Assert.Equal(1, backend.Requests);
    }
}
