using System.Net;
using RateGuard.Integration.Tests.Infrastructure;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Binding;

public sealed class EndpointNamingTests
{
    [Fact]
    public async Task Conventionally_routed_actions_sharing_one_pattern_have_buckets_of_their_own()
    {
        await using var app = await TestApp.StartAsync();

        Assert.Equal(Repeat(200, 1).Then(429), await app.Client.Statuses("/Conventional/First", 2));
        Assert.Equal(Repeat(200, 1).Then(429), await app.Client.Statuses("/Conventional/Second", 2));
    }

    [Fact]
    public async Task With_a_missing_key_admitted_the_headers_pair_each_remaining_count_with_its_own_bucket()
    {
        await using var app = await TestApp.StartAsync(o => o.MissingKey = MissingKeyBehavior.Admit);

        using var withoutA = await app.Client.GetAsync("/two-keys");
        using var withA = await app.Client.Get("/two-keys", ("X-A", "a"));

        Assert.Equal(HttpStatusCode.OK, withoutA.StatusCode);
        // Only the ip bucket decided: its numbers appear under its own name, not under the header bucket's.
        Assert.Matches("^\"GET /two-keys #2\";r=4;t=4$", withoutA.Header("RateLimit"));
        Assert.Matches("^\"GET /two-keys\";r=2;t=4, \"GET /two-keys #2\";r=3;t=8$", withA.Header("RateLimit"));
    }
}
