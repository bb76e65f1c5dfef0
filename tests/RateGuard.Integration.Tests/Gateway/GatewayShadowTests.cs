using Microsoft.Extensions.DependencyInjection;
using RateGuard.Operations;
using Yarp.ReverseProxy.Configuration;
using static RateGuard.Integration.Tests.Gateway.ProxyHost;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>
/// Shadow mode reaches a route's bucket by its name in configuration, with nothing in the route: every request goes
/// through, and those the bucket would have rejected are counted, in Redis and in memory.
/// </summary>
public sealed class GatewayShadowTests(GatewayRedisFixture redis) : IClassFixture<GatewayRedisFixture>
{
    // 0.01 tokens a second: no token comes back during the test, so the counts are exact.
    private static RouteConfig Limited(string id) =>
        Route(id, $"/{id}/{{**rest}}", ("TokenBucket.Capacity", "2"), ("TokenBucket.Rate", "0.01"), ("TokenBucket.Key", "header:X-Client"));

    [Fact]
    public async Task A_route_bucket_set_to_shadow_mode_by_name_in_Redis_lets_every_request_through_and_counts_those_it_would_reject()
    {
        await using var backend = await CountingBackend.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Redis"] = redis.Server.Configuration,
            ["KeyPrefix"] = "gw" + Guid.NewGuid().ToString("N"),
            ["Buckets:api:Mode"] = "Shadow",
        };
        await using var proxy = await StartAsync(backend, [Limited("api"), Limited("orders")], settings);

        var api = new List<int>();
        var orders = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            api.Add((await proxy.GetAsync("/api/x", ("X-Client", "ann"))).Status);
            orders.Add((await proxy.GetAsync("/orders/x", ("X-Client", "ann"))).Status);
        }

        Assert.Equal([200, 200, 200, 200, 200], api);
        // The other route's bucket still enforces.
        Assert.Equal([200, 200, 429, 429, 429], orders);
        Assert.Equal(5 + 2, backend.Requests);
        var buckets = proxy.Services.GetRequiredService<ITokenBucketOperations>().GetBuckets();
        var shadow = Assert.Single(buckets, b => b.Name == "api");
        Assert.Equal((TokenBucketMode.Shadow, 5, 0, 3), (shadow.Mode, shadow.Activity.Admitted, shadow.Activity.Rejected, shadow.Activity.ShadowRejected));
        var enforced = Assert.Single(buckets, b => b.Name == "orders");
        Assert.Equal((TokenBucketMode.Enforce, 2, 3, 0), (enforced.Mode, enforced.Activity.Admitted, enforced.Activity.Rejected, enforced.Activity.ShadowRejected));
    }

    [Fact]
    public async Task Shadow_mode_for_every_bucket_in_memory_lets_every_request_to_a_route_through_and_counts_those_it_would_reject()
    {
        await using var backend = await CountingBackend.StartAsync();
        await using var proxy = await StartAsync(backend, [Limited("api")], new() { ["Mode"] = "Shadow" });

        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add((await proxy.GetAsync("/api/x", ("X-Client", "ann"))).Status);
        }

        Assert.Equal([200, 200, 200, 200], statuses);
        Assert.Equal(4, backend.Requests);
        var bucket = Assert.Single(proxy.Services.GetRequiredService<ITokenBucketOperations>().GetBuckets(), b => b.Name == "api");
        Assert.Equal((TokenBucketMode.Shadow, 2), (bucket.Mode, bucket.Activity.ShadowRejected));
    }
}
