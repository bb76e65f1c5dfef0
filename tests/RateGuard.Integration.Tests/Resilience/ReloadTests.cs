using Microsoft.Extensions.Configuration;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Resilience;

/// <summary>Every part reads the one snapshot of the options in force: a reload reaches them all at once.</summary>
public sealed class ReloadTests
{
    [Fact]
    public async Task A_reload_at_runtime_is_honoured_by_the_middleware_the_limiter_and_the_gates_alike()
    {
        using var redis = RedisServer.Start();
        await using var app = await ResilienceApp.StartAsync(new()
        {
            ["TokenBuckets:Redis"] = redis.Configuration,
            ["TokenBuckets:KeyPrefix"] = "reload",
            // A token a hundred seconds: however slowly a busy machine sends the requests, none comes back meanwhile.
            ["TokenBuckets:Buckets:GET /limited:Rate"] = "0.01",
        });
        using var decisions = MeterCounts.Decisions(app);
        var before = (TestClientAddress.Header, "192.0.2.1");

        // Before: 429 with the draft headers, the second rejection from the deny cache, the bucket's declared capacity
        // of 5, and a request without the key's header refused.
        Assert.Equal(Repeat(200, 5).Then(429).Then(429), await app.Client.Statuses("/limited", 7, before));
        using (var rejected = await app.Client.Get("/limited", before))
        {
            Assert.NotNull(rejected.Header("RateLimit"));
        }
        Assert.Equal(2, decisions["deny_cache"]);
        using (var missing = await app.Client.Get("/keyed"))
        {
            Assert.Equal(403, (int)missing.StatusCode);
        }

        app.App.Configuration["TokenBuckets:RejectionStatusCode"] = "418";
        app.App.Configuration["TokenBuckets:Headers"] = "Legacy";
        app.App.Configuration["TokenBuckets:MissingKey"] = "Admit";
        app.App.Configuration["TokenBuckets:DenyCache"] = "false";
        app.App.Configuration["TokenBuckets:Buckets:GET /limited:Capacity"] = "7";
        ((IConfigurationRoot)app.App.Configuration).Reload();
        var after = (TestClientAddress.Header, "192.0.2.2");

        // After: the middleware answers 418 with the legacy headers and admits a request without the key; the gate
        // table gives the bucket its new capacity; the limiter asks Redis for every rejection, with no deny cache.
        Assert.Equal(Repeat(200, 7).Then(418).Then(418), await app.Client.Statuses("/limited", 9, after));
        using (var rejected = await app.Client.Get("/limited", after))
        {
            Assert.Equal((418, null, "0"), ((int)rejected.StatusCode, rejected.Header("RateLimit"), rejected.Header("X-RateLimit-Remaining")));
        }
        Assert.Equal(2, decisions["deny_cache"]);
        using (var missing = await app.Client.Get("/keyed"))
        {
            Assert.Equal(200, (int)missing.StatusCode);
        }
    }
}
