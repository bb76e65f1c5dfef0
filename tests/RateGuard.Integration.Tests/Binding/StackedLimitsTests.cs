using System.Net;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Binding;

/// <summary>
/// An endpoint with a shared budget and a per-client limit: a request the client's bucket rejects takes nothing from
/// the budget, so one client hammering its own bucket cannot drain the budget for everyone else.
/// </summary>
public sealed class StackedLimitsTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task One_client_hammering_its_own_limit_leaves_the_shared_budget_for_others(bool redis)
    {
        using var server = redis ? RedisServer.Start() : null;
        await using var app = await TestApp.StartAsync(o => o.Redis = server is null ? null : $"127.0.0.1:{server.Port}");
        (string, string)[] hammering = [(TestClientAddress.Header, "203.0.113.1")];

        var statuses = await app.Client.Statuses("/stacked", 30, hammering);
        using var other = await app.Client.Get("/stacked", [(TestClientAddress.Header, "203.0.113.2")]);
        using var rejected = await app.Client.Get("/stacked", hammering);

        Assert.Equal(Repeat(200, 2).Then(429, 28), statuses);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        // The budget gave 3 (2 to the hammering client, 1 to the other) and holds 17; the client's own bucket is empty.
        Assert.StartsWith("\"budget\";r=17;t=300, \"GET /stacked\";r=1;t=", other.Header("RateLimit"));
        // Rejected by its own bucket (over Redis, from the deny cache, which does not ask the budget at all).
        Assert.Contains("\"GET /stacked\";r=0;t=100", rejected.Header("RateLimit"));
        Assert.Equal("100", rejected.Header("Retry-After"));
    }

    [Fact]
    public async Task A_request_missing_a_later_limits_key_is_answered_before_an_earlier_limit_is_charged()
    {
        await using var app = await TestApp.StartAsync();

        var missing = await app.Client.Statuses("/keys-first", 3);
        using var complete = await app.Client.Get("/keys-first", [("X-B", "b")]);

        Assert.Equal(Repeat(403, 3), missing);
        Assert.Equal(HttpStatusCode.OK, complete.StatusCode);
        Assert.StartsWith("\"GET /keys-first\";r=1;", complete.Header("RateLimit")); // the 403s took nothing
    }
}
