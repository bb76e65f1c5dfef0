using static RateGuard.Integration.Tests.Gateway.ProxyHost;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>
/// <c>TokenBucket.Plan</c> in a route's metadata reads the caller's plan, and configuration gives the route's bucket its
/// plans and lists, across proxies over one Redis; a plan source that is none stops the proxy.
/// </summary>
public sealed class GatewayPlanTests(GatewayRedisFixture redis) : IClassFixture<GatewayRedisFixture>
{
    [Fact]
    public async Task A_routes_plan_header_gives_callers_their_plans_limits_across_proxies_in_Redis()
    {
        await using var backend = await CountingBackend.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Redis"] = redis.Server.Configuration,
            ["KeyPrefix"] = "gw" + Guid.NewGuid().ToString("N"),
            ["Buckets:api:Plans:pro:Capacity"] = "4",
            ["Buckets:api:Plans:partner:Unlimited"] = "true",
            ["Buckets:api:Deny:0"] = "mallory",
        };
        // 0.01 tokens a second: no token comes back during the test, so the counts are exact.
        var routes = new[] { Route("api", "/api/{**rest}", ("TokenBucket.Capacity", "2"), ("TokenBucket.Rate", "0.01"), ("TokenBucket.Key", "header:X-Client"), ("TokenBucket.Plan", "header:X-Plan")) };
        await using var first = await StartAsync(backend, routes, settings);
        await using var second = await StartAsync(backend, routes, settings);

        var pro = new List<int>();
        var plain = new List<int>();
        var partner = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            var proxy = i % 2 == 0 ? first : second;
            pro.Add((await proxy.GetAsync("/api/x", ("X-Client", "ann"), ("X-Plan", "pro"))).Status);
            plain.Add((await proxy.GetAsync("/api/x", ("X-Client", "bob"))).Status);
            partner.Add((await proxy.GetAsync("/api/x", ("X-Client", "cat"), ("X-Plan", "partner"))).Status);
        }
        var denied = await first.GetAsync("/api/x", ("X-Client", "mallory"), ("X-Plan", "partner"));

        Assert.Equal([200, 200, 200, 200, 429, 429], pro);
        Assert.Equal([200, 200, 429, 429, 429, 429], plain);
        Assert.Equal([200, 200, 200, 200, 200, 200], partner);
        Assert.Equal(403, denied.Status);
        var policy = (await second.GetAsync("/api/x", ("X-Client", "dan"), ("X-Plan", "pro"))).Header("RateLimit-Policy");
        Assert.Equal("\"api\";q=4;w=400", policy);
    }

    [Fact]
    public async Task A_plan_source_that_is_none_stops_the_proxy()
    {
        await using var backend = await CountingBackend.StartAsync();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(backend,
            [Route("api", "/api/{**rest}", ("TokenBucket.Capacity", "2"), ("TokenBucket.Rate", "1"), ("TokenBucket.Plan", "user"))]));

        var message = Assert.Single(Chain(failure), e => e.Message.StartsWith("Route 'api'", StringComparison.Ordinal)).Message;
        Assert.StartsWith("Route 'api': metadata 'TokenBucket.Plan' = 'user' is invalid: a plan is read from one of", message);
    }
}
