using System.Net;
using System.Net.Http.Json;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Samples;

public abstract class MinimalApiTests(Store store, RedisFixture? redis) : SampleTests<MinimalApiSample.SampleMarker>(store, redis)
{
    [Fact]
    public async Task A_limit_attached_with_WithMetadata_applies()
    {
        Assert.Equal(Repeat(200, 2).Then(429), await Client.Statuses("/metadata", 3));
    }

    [Fact]
    public async Task A_limit_required_on_a_group_is_one_bucket_its_endpoints_share_unless_disabled()
    {
        Assert.Equal(Repeat(200, 2), await Client.Statuses("/reports/daily", 2));
        using var weekly = await Client.GetAsync("/reports/weekly");
        Assert.Equal(HttpStatusCode.OK, weekly.StatusCode);
        Assert.Matches("^\"/reports\";q=3;w=3$", weekly.Header("RateLimit-Policy"));
        Assert.Equal<int[]>([429], await Client.Statuses("/reports/weekly", 1));
        Assert.Equal(Repeat(200, 10), await Client.Statuses("/reports/health", 10));
    }

    [Fact]
    public async Task With_perEndpoint_each_endpoint_of_a_group_has_a_bucket_of_its_own()
    {
        Assert.Equal(Repeat(200, 2).Then(429), await Client.Statuses("/archive/2025", 3));
        using var other = await Client.GetAsync("/archive/2024");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Matches("^\"GET /archive/2024\";q=2;w=2$", other.Header("RateLimit-Policy"));
    }

    [Fact]
    public async Task Multiple_attributes_must_all_admit_and_all_appear_in_the_headers()
    {
        using var first = await Client.GetAsync("/multi");
        var rest = await Client.Statuses("/multi", 3);

        // The second limit's default name carries a hash, so it cannot coincide with a route that ends in ".2".
        Assert.Matches("^\"GET /multi\";q=3;w=3, \"GET /multi #2\";q=100;w=10$", first.Header("RateLimit-Policy"));
        Assert.Matches("^\"GET /multi\";r=2;t=1, \"GET /multi #2\";r=99;t=1$", first.Header("RateLimit"));
        Assert.Equal([200, 200, 429], rest);
    }

    [Fact]
    public async Task A_cost_of_two_takes_two_tokens_per_request()
    {
        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await Client.PostAsJsonAsync("/exports", new { name = "q3" });
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal([200, 200, 200, 429], statuses);
    }
}

[Collection(SamplesCollection.Name)]
public sealed class MinimalApiInMemoryTests() : MinimalApiTests(Store.InMemory, null);

[Collection(SamplesCollection.Name)]
public sealed class MinimalApiRedisTests(RedisFixture redis) : MinimalApiTests(Store.Redis, redis), IClassFixture<RedisFixture>;
