using Microsoft.AspNetCore.Http;
using static RateGuard.Integration.Tests.Gateway.ProxyHost;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>
/// <c>TokenBucket.Count</c> in a route's metadata: the route's bucket counts only the responses it names, from the
/// upstream's status codes, across proxies over one Redis and in memory.
/// </summary>
public sealed class GatewayCountTests(GatewayRedisFixture redis) : IClassFixture<GatewayRedisFixture>
{
    [Theory]
    [InlineData("redis")]
    [InlineData("memory")]
    public async Task A_route_counting_failures_charges_only_the_requests_its_upstream_answers_401(string store)
    {
        // The upstream turns away every request to /api/denied.
        await using var backend = await CountingBackend.StartAsync(context =>
        {
            if (context.Request.Path.StartsWithSegments("/api/denied"))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            }
        });
        var settings = new Dictionary<string, string?>();
        if (store == "redis")
        {
            settings["Redis"] = redis.Server.Configuration;
            settings["KeyPrefix"] = "gw" + Guid.NewGuid().ToString("N");
        }
        // 0.01 tokens a second: no token comes back during the test, so the counts are exact.
        var routes = new[] { Route("api", "/api/{**rest}", ("TokenBucket.Capacity", "3"), ("TokenBucket.Rate", "0.01"), ("TokenBucket.Key", "header:X-Client"), ("TokenBucket.Count", "failures")) };
        await using var first = await StartAsync(backend, routes, settings);
        // In memory each proxy has buckets of its own: one proxy answers every request.
        await using var second = store == "redis" ? await StartAsync(backend, routes, settings) : null;

        var statuses = new List<int>();
        var failures = 0;
        for (var i = 0; i < 8; i++)
        {
            var proxy = i % 2 == 0 || second is null ? first : second;
            var response = await proxy.GetAsync(i % 2 == 0 ? "/api/ok" : "/api/denied", ("X-Client", "ann"));
            statuses.Add(response.Status);
            if (response.Status == StatusCodes.Status401Unauthorized)
            {
                failures++;
            }
            if (response.Status != StatusCodes.Status429TooManyRequests)
            {
                // A success is given its token back after its response; wait for it before the next request.
                await first.BucketAsync("api", "ann", b => b.Tokens == 3 - failures);
            }
        }

        // Six requests got through a bucket of three: the three successes cost nothing, the three 401s used it up.
        Assert.Equal([200, 401, 200, 401, 200, 401, 429, 429], statuses);
        Assert.Equal(6, backend.Requests);
    }
}
