using System.Globalization;
using static RateGuard.Integration.Tests.Gateway.ProxyHost;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>
/// <c>TokenBucket.ChargeHeader</c> in a route's metadata: the gateway charges each request the cost its upstream reports
/// in that response header, up to the route's <c>TokenBucket.MaxCost</c>, in Redis and in memory; a value that is not a
/// cost charges nothing and is logged once; a header the route cannot charge stops the proxy.
/// </summary>
public sealed class GatewayChargeHeaderTests(GatewayRedisFixture redis) : IClassFixture<GatewayRedisFixture>
{
    private static (string Key, string Value)[] Llm(string rate) =>
    [
        ("TokenBucket.Capacity", "100"), ("TokenBucket.Rate", rate), ("TokenBucket.Cost", "1"), ("TokenBucket.Key", "header:X-Client"),
        ("TokenBucket.MaxCost", "1000"), ("TokenBucket.ChargeHeader", "X-Tokens-Used"),
    ];

    [Theory]
    [InlineData("redis")]
    [InlineData("memory")]
    public async Task The_tokens_the_upstream_reports_put_the_bucket_in_debt_and_the_third_request_waits_about_a_minute(string store)
    {
        // An LLM backend: every answer used 80 tokens.
        await using var backend = await CountingBackend.StartAsync(context => context.Response.Headers["X-Tokens-Used"] = "80");
        var settings = new Dictionary<string, string?>();
        if (store == "redis")
        {
            settings["Redis"] = redis.Server.Configuration;
            settings["KeyPrefix"] = "gw" + Guid.NewGuid().ToString("N");
        }
        await using var proxy = await StartAsync(backend, [Route("llm", "/llm/{**rest}", Llm(rate: "1"))], settings);

        var first = await proxy.GetAsync("/llm/chat", ("X-Client", "ann"));
        // 100 - 80: full again in 80 seconds at a token a second.
        await proxy.BucketAsync("llm", "ann", b => b.TimeToFull > TimeSpan.FromSeconds(75));
        var second = await proxy.GetAsync("/llm/chat", ("X-Client", "ann"));
        // 20 - 80: 60 tokens in debt, full again in 160 seconds.
        await proxy.BucketAsync("llm", "ann", b => b.TimeToFull > TimeSpan.FromSeconds(155));
        var third = await proxy.GetAsync("/llm/chat", ("X-Client", "ann"));

        Assert.Equal([200, 200, 429], [first.Status, second.Status, third.Status]);
        // The debt of 60 and the token the request needs: 61 seconds, less what has come back since.
        var retryAfter = int.Parse(third.Header("Retry-After")!, CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 50, 61);
        // The header reaches the client as the upstream sent it.
        Assert.Equal("80", first.Header("X-Tokens-Used"));
        Assert.Equal(2, backend.Requests);
        // Another client's bucket is its own.
        Assert.Equal(200, (await proxy.GetAsync("/llm/chat", ("X-Client", "bob"))).Status);
    }

    [Fact]
    public async Task A_value_that_is_not_a_cost_charges_nothing_and_is_logged_once_for_the_route()
    {
        await using var backend = await CountingBackend.StartAsync(context => context.Response.Headers["X-Tokens-Used"] = "lots");
        // 0.01 tokens a second: no token comes back during the test, so the count is exact.
        await using var proxy = await StartAsync(backend, [Route("llm", "/llm/{**rest}", Llm(rate: "0.01"))]);

        var (statuses, state) = await ThreeChatsAsync(proxy);

        Assert.Equal([200, 200, 200], statuses);
        // Each request kept the one token it took up front.
        Assert.Equal(97, state.Tokens);
        var logged = Assert.Single(proxy.Logs.GetSnapshot(), r => r.Id.Name == "ChargeHeaderInvalid");
        Assert.Equal("Route 'llm': the upstream answered with X-Tokens-Used: 'lots', which is not a cost (a finite number of tokens, not negative, with '.' as the decimal separator), so the request keeps the cost it was charged up front. Logged once per route.", logged.Message);
    }

    [Fact]
    public async Task A_successful_answer_without_the_header_keeps_the_up_front_cost_and_is_logged_once_for_the_route()
    {
        await using var backend = await CountingBackend.StartAsync();
        await using var proxy = await StartAsync(backend, [Route("llm", "/llm/{**rest}", Llm(rate: "0.01"))]);

        var (statuses, state) = await ThreeChatsAsync(proxy);

        Assert.Equal([200, 200, 200], statuses);
        Assert.Equal(97, state.Tokens);
        var logged = Assert.Single(proxy.Logs.GetSnapshot(), r => r.Id.Name == "ChargeHeaderMissing");
        Assert.Equal("Route 'llm': the upstream answered 200 without the header X-Tokens-Used, so the request keeps the cost it was charged up front. Check that the upstream sets the header under this name. Logged once per route.", logged.Message);
    }

    [Fact]
    public async Task In_development_a_report_above_the_maximum_cost_is_logged_once_and_the_upstreams_answer_still_reaches_the_client()
    {
        // In development a charge above the maximum throws, to name the mistake; a transform that threw would turn the
        // upstream's answer into a 502.
        await using var backend = await CountingBackend.StartAsync(context => context.Response.Headers["X-Tokens-Used"] = "5000");
        await using var proxy = await StartAsync(backend, [Route("llm", "/llm/{**rest}", Llm(rate: "0.01"))], environment: "Development");

        var statuses = new List<int>();
        for (var i = 0; i < 2; i++)
        {
            statuses.Add((await proxy.GetAsync("/llm/chat", ("X-Client", "ann"))).Status);
        }

        Assert.Equal([200, 200], statuses);
        var logged = Assert.Single(proxy.Logs.GetSnapshot(), r => r.Id.Name == "ChargeRefused");
        Assert.Equal("Route 'llm': the upstream reported a cost of 5000 in X-Tokens-Used, which the route's limits refused; the response goes on. Logged once per route.", logged.Message);
        Assert.IsType<ArgumentOutOfRangeException>(logged.Exception);
    }

    public static TheoryData<string[], string> InvalidHeaders => new()
    {
        {
            ["TokenBucket.Capacity", "100", "TokenBucket.Rate", "1", "TokenBucket.ChargeHeader", "X-Tokens-Used"],
            "Route 'llm': metadata 'TokenBucket.ChargeHeader' = 'X-Tokens-Used' reports what a request cost, but no limit of the route may charge a request after the fact, so the report would change nothing. Set 'TokenBucket.MaxCost' (or 'TokenBucket.<label>.MaxCost') on the route to the most one request may be charged, such as 1000."
        },
        {
            ["TokenBucket.Capacity", "100", "TokenBucket.Rate", "1", "TokenBucket.MaxCost", "0", "TokenBucket.ChargeHeader", "X-Tokens-Used"],
            "Route 'llm': metadata 'TokenBucket.ChargeHeader' = 'X-Tokens-Used' reports what a request cost, but no limit of the route may charge a request after the fact, so the report would change nothing. Set 'TokenBucket.MaxCost' (or 'TokenBucket.<label>.MaxCost') on the route to the most one request may be charged, such as 1000."
        },
        {
            ["TokenBucket.Limit", "writes", "TokenBucket.ChargeHeader", "X-Tokens-Used"],
            "Route 'llm': metadata 'TokenBucket.ChargeHeader' = 'X-Tokens-Used' reports what a request cost, but no limit of the route may charge a request after the fact, so the report would change nothing. Set 'TokenBucket.MaxCost' (or 'TokenBucket.<label>.MaxCost') on the route to the most one request may be charged, such as 1000. A limit used by name ('TokenBucket.Limit') cannot set it on the route: add a labelled limit that does, such as 'TokenBucket.tokens.Capacity', 'TokenBucket.tokens.Rate' and 'TokenBucket.tokens.MaxCost'."
        },
        {
            ["TokenBucket.Capacity", "100", "TokenBucket.Rate", "1", "TokenBucket.MaxCost", "1000", "TokenBucket.ChargeHeader", "X Tokens Used"],
            "Route 'llm': metadata 'TokenBucket.ChargeHeader' = 'X Tokens Used' is invalid: a charge header is the name of a response header, letters, digits and !#$%&'*+-.^_`|~ with no spaces. Write the name the upstream sets, such as 'X-Tokens-Used'."
        },
        {
            ["TokenBucket.Capacity", "100", "TokenBucket.Rate", "1", "TokenBucket.MaxCost", "1000", "TokenBucket.tokens.ChargeHeader", "X-Tokens-Used"],
            "Route 'llm': metadata key 'TokenBucket.tokens.ChargeHeader' (value 'X-Tokens-Used') gives one limit a charge header, but the header belongs to the route: the cost it reports is charged to every limit of the route that sets a maximum cost. Write it as 'TokenBucket.ChargeHeader'."
        },
        {
            ["TokenBucket.Capacity", "100", "TokenBucket.Rate", "1", "TokenBucket.MaxCost", "1000", "TokenBucket.ChargeHeadr", "X-Tokens-Used"],
            "Route 'llm': metadata key 'TokenBucket.ChargeHeadr' (value 'X-Tokens-Used') is not a token-bucket setting, so it would limit nothing. Did you mean 'TokenBucket.ChargeHeader'?"
        },
    };

    [Theory]
    [MemberData(nameof(InvalidHeaders))]
    public async Task A_charge_header_the_route_cannot_charge_stops_startup_with_a_message_naming_the_route_and_the_key(string[] metadata, string message)
    {
        await using var backend = await CountingBackend.StartAsync();
        var pairs = metadata.Chunk(2).Select(p => (p[0], p[1])).ToArray();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(backend, [Route("llm", "/llm/{**rest}", pairs)]));

        Assert.Contains(message, Chain(failure).Select(e => e.Message));
        Assert.Equal(0, backend.Requests);
    }

    // Three requests of one client to the route, and its bucket once their charges have reached the store.
    private static async Task<(int[] Statuses, RateGuard.Operations.TokenBucketState State)> ThreeChatsAsync(ProxyHost proxy)
    {
        var statuses = new int[3];
        for (var i = 0; i < statuses.Length; i++)
        {
            statuses[i] = (await proxy.GetAsync("/llm/chat", ("X-Client", "ann"))).Status;
        }
        return (statuses, await proxy.BucketAsync("llm", "ann", _ => true));
    }
}
