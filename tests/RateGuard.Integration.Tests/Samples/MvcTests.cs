using System.Net;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Samples;

public abstract class MvcTests(Store store, RedisFixture? redis) : SampleTests<MvcSample.SampleMarker>(store, redis)
{
    [Fact]
    public async Task Controller_and_action_limits_combine_and_every_bucket_must_admit()
    {
        var key = ("X-Api-Key", "k1");

        var expensive = await Client.Statuses("/reports/expensive", 2, key);
        using var third = await Client.Get("/reports/expensive", key);

        // The action allows 2. Both buckets are decided together, so the third request, which the action's bucket
        // rejects, takes nothing from the controller's (5 per key): it still holds 3.
        Assert.Equal([200, 200], expensive);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Matches("^\"ReportsController\";r=3;t=2, \"GET /reports/expensive\";r=0;t=1$", third.Header("RateLimit"));
    }

    [Fact]
    public async Task A_controller_level_limit_is_one_bucket_its_actions_share()
    {
        var key = ("X-Api-Key", "k3");

        // Two of the controller's five tokens go to the expensive action, whose own bucket then rejects a third.
        Assert.Equal(Repeat(200, 2).Then(429), await Client.Statuses("/reports/expensive", 3, key));
        Assert.Equal(Repeat(200, 3).Then(429), await Client.Statuses("/reports/daily", 4, key));
    }

    [Fact]
    public async Task With_PerEndpoint_each_action_of_a_controller_has_a_bucket_of_its_own()
    {
        Assert.Equal(Repeat(200, 2).Then(429), await Client.Statuses("/archive/2025", 3));
        using var other = await Client.GetAsync("/archive/2024");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Matches("^\"GET /archive/2024\";q=2;w=2$", other.Header("RateLimit-Policy"));
    }

    [Fact]
    public async Task DisableTokenBucket_opts_an_action_out_of_its_controllers_limit()
    {
        Assert.Equal(Repeat(200, 10), await Client.Statuses("/reports/health", 10));
    }

    [Fact]
    public async Task A_controller_level_header_key_rejects_a_request_without_the_header()
    {
        using var response = await Client.GetAsync("/reports/daily");

        await AssertProblem(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Both_limits_of_a_limited_action_appear_in_the_headers()
    {
        using var response = await Client.Get("/reports/expensive", ("X-Api-Key", "k2"));

        Assert.Matches("^\"ReportsController\";q=5;w=5, \"GET /reports/expensive\";q=2;w=2$", response.Header("RateLimit-Policy"));
    }
}

[Collection(SamplesCollection.Name)]
public sealed class MvcInMemoryTests() : MvcTests(Store.InMemory, null);

[Collection(SamplesCollection.Name)]
public sealed class MvcRedisTests(RedisFixture redis) : MvcTests(Store.Redis, redis), IClassFixture<RedisFixture>;
