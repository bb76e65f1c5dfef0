using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.CompilerServices;
using RateGuard.Gates;
using RateGuard.Http;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using StackExchange.Redis;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Samples;

/// <summary>
/// The behaviour both samples share, run against each store. Every test gets a fresh app and, over Redis, a key
/// prefix of its own, so no test sees another's buckets.
/// </summary>
public abstract class SampleTests<TMarker> : IAsyncLifetime
    where TMarker : class
{
    private readonly List<IDisposable> _disposables = [];
    private readonly RedisFixture? _redis;

    protected SampleTests(Store store, RedisFixture? redis)
    {
        Store = store;
        _redis = redis;
        Assert.True(store == Store.InMemory || redis is not null, "Redis tests need a Redis fixture.");
    }

    protected Store Store { get; }

    protected string KeyPrefix { get; } = "it" + Guid.NewGuid().ToString("N")[..8];

    protected HttpClient Client { get; private set; } = null!;

    protected SampleFactory<TMarker> Factory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Factory = CreateFactory();
        Client = await StartAsync(Factory);
    }

    public Task DisposeAsync()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }
        return Task.CompletedTask;
    }

    protected SampleFactory<TMarker> CreateFactory(Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?> { ["TokenBuckets:KeyPrefix"] = KeyPrefix };
        if (Store == Store.Redis)
        {
            all["TokenBuckets:Redis"] = _redis!.Server.Configuration;
            // These tests are about limits, not failures: a loaded machine must not turn a decision into fail-open.
            all["TokenBuckets:Timeout"] = "00:00:05";
        }
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }
        var factory = new SampleFactory<TMarker>(all, services);
        _disposables.Add(factory);
        return factory;
    }

    // The seed's /ping gains a token every 200 ms. A burst that took longer on the client's stopwatch, which spans every
    // decision in it, may have seen one come back mid-burst, and then cannot show what it checks: it is sent again from
    // a fresh client address, so to a full bucket of its own, up to ten times. The last one is checked however long it took.
    protected static async Task<T> PingBurst<T>(Func<(string Name, string Value), Task<T>> burst)
    {
        for (var attempt = 1; ; attempt++)
        {
            var clock = Stopwatch.StartNew();
            var result = await burst((TestClientAddress.Header, $"198.51.100.{attempt}"));
            if (clock.Elapsed < TimeSpan.FromMilliseconds(200) || attempt == 10)
            {
                return result;
            }
        }
    }

    protected static async Task<HttpClient> StartAsync(SampleFactory<TMarker> factory)
    {
        var client = factory.CreateClient();
        // Warm the limited path up (store, script, headers) on a bucket no test uses, so that the bursts below run at
        // full speed: a cold first request must not give a bucket time to refill mid-burst.
        using var warmUp = await client.GetAsync("/search?q=warm-up");
        Assert.Equal(HttpStatusCode.OK, warmUp.StatusCode);
        return client;
    }

    [Fact]
    public async Task Ping_admits_the_seed_burst_of_ten_then_answers_429_with_retry_after_and_a_problem()
    {
        var (admitted, rejected) = await PingBurst(async address =>
        {
            var answers = new List<(HttpStatusCode, string?)>();
            for (var i = 0; i < 10; i++)
            {
                using var response = await Client.Get("/ping", address);
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                answers.Add((response.StatusCode, body.RootElement.GetProperty("message").GetString()));
            }
            return (answers, await Client.Get("/ping", address));
        });
        using var _ = rejected;

        Assert.All(admitted, response => Assert.Equal((HttpStatusCode.OK, "pong"), response));

        await AssertProblem(rejected, HttpStatusCode.TooManyRequests);
        Assert.Equal("1", rejected.Header("Retry-After"));
    }

    [Fact]
    public async Task Draft_rate_limit_headers_are_on_admitted_and_rejected_responses()
    {
        var (first, rejected) = await PingBurst(async address =>
        {
            var opening = await Client.Get("/ping", address);
            await Client.Statuses("/ping", 9, address);
            return (opening, await Client.Get("/ping", address));
        });
        using var _ = first;
        using var __ = rejected;
        Assert.Equal("\"GET /ping\";q=10;w=2", first.Header("RateLimit-Policy"));
        Assert.Equal("\"GET /ping\";r=9;t=1", first.Header("RateLimit"));
        Assert.Null(first.Header("Retry-After"));

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal("\"GET /ping\";q=10;w=2", rejected.Header("RateLimit-Policy"));
        Assert.Equal("\"GET /ping\";r=0;t=1", rejected.Header("RateLimit"));
    }

    [Fact]
    public async Task Legacy_headers_are_sent_when_selected()
    {
        var client = await StartAsync(CreateFactory(new() { ["TokenBuckets:Headers"] = "Legacy" }));

        using var response = await client.GetAsync("/ping");

        Assert.Equal("9", response.Header("X-RateLimit-Remaining"));
        Assert.Equal("5", response.Header("X-RateLimit-Replenish-Rate"));
        Assert.Equal("10", response.Header("X-RateLimit-Burst-Capacity"));
        Assert.Equal("1", response.Header("X-RateLimit-Requested-Tokens"));
        Assert.Null(response.Header("RateLimit"));
    }

    [Fact]
    public async Task No_rate_limit_headers_are_sent_when_none_are_selected_but_a_rejection_keeps_retry_after()
    {
        var client = await StartAsync(CreateFactory(new() { ["TokenBuckets:Headers"] = "None" }));

        var (statuses, rejected) = await PingBurst(async address => (await client.Statuses("/ping", 10, address), await client.Get("/ping", address)));
        using var _ = rejected;

        Assert.Equal(Repeat(200, 10), statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Null(rejected.Header("RateLimit"));
        Assert.Null(rejected.Header("RateLimit-Policy"));
        Assert.Null(rejected.Header("X-RateLimit-Remaining"));
        Assert.Equal("1", rejected.Header("Retry-After"));
    }

    [Fact]
    public async Task An_ip_key_gives_each_client_address_its_own_bucket_and_maps_ipv4_mapped_ipv6_to_ipv4()
    {
        // 22 requests cannot be relied on to fit in the seed's 200 ms per token on a busy machine; this test is about
        // whose bucket a request lands in, so the refill is slowed from configuration.
        var client = await StartAsync(CreateFactory(new() { ["TokenBuckets:Buckets:GET_ping:Rate"] = "0.01" }));
        var first = await client.Statuses("/ping", 11, (TestClientAddress.Header, "203.0.113.1"));
        var mapped = await client.Statuses("/ping", 1, (TestClientAddress.Header, "::ffff:203.0.113.1"));
        var other = await client.Statuses("/ping", 10, (TestClientAddress.Header, "2001:db8::7"));

        Assert.Equal(Repeat(200, 10).Then(429), first);
        Assert.Equal([429], mapped);
        Assert.Equal(Repeat(200, 10), other);
    }

    [Fact]
    public async Task A_global_key_is_one_bucket_for_every_client()
    {
        var fromA = await Client.Statuses("/global", 10, (TestClientAddress.Header, "198.51.100.1"));
        var fromB = await Client.Statuses("/global", 11, (TestClientAddress.Header, "198.51.100.2"));

        Assert.Equal(Repeat(200, 10), fromA);
        Assert.Equal(Repeat(200, 10).Then(429), fromB);
    }

    [Fact]
    public async Task A_header_key_separates_clients_and_a_missing_header_gets_403()
    {
        var alpha = await Client.Statuses("/api-key", 6, ("X-Api-Key", "alpha"));
        var beta = await Client.Statuses("/api-key", 1, ("X-Api-Key", "beta"));
        using var missing = await Client.GetAsync("/api-key");

        Assert.Equal(Repeat(200, 5).Then(429), alpha);
        Assert.Equal([200], beta);
        await AssertProblem(missing, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_query_key_separates_values()
    {
        Assert.Equal(Repeat(200, 3).Then(429), await Client.Statuses("/search?q=a", 4));
        Assert.Equal(Repeat(200, 1), await Client.Statuses("/search?q=b", 1));
    }

    [Fact]
    public async Task A_route_key_separates_route_values()
    {
        Assert.Equal(Repeat(200, 4).Then(429), await Client.Statuses("/tenants/acme/orders", 5));
        Assert.Equal(Repeat(200, 1), await Client.Statuses("/tenants/globex/orders", 1));
    }

    [Fact]
    public async Task A_user_key_separates_users()
    {
        Assert.Equal(Repeat(200, 5).Then(429), await Client.Statuses("/me", 6, ("X-Demo-User", "alice")));
        Assert.Equal(Repeat(200, 1), await Client.Statuses("/me", 1, ("X-Demo-User", "bob")));
        // Anonymous callers never reach the limiter: the endpoint requires authorization.
        Assert.Equal(Repeat(401, 1), await Client.Statuses("/me", 1));
    }

    [Fact]
    public async Task A_claim_key_groups_users_by_claim_value()
    {
        var alice = await Client.Statuses("/tenant-report", 2, ("X-Demo-User", "alice"), ("X-Demo-Tenant", "acme"));
        var bob = await Client.Statuses("/tenant-report", 2, ("X-Demo-User", "bob"), ("X-Demo-Tenant", "acme"));
        var carol = await Client.Statuses("/tenant-report", 1, ("X-Demo-User", "carol"), ("X-Demo-Tenant", "globex"));
        var noTenant = await Client.Statuses("/tenant-report", 1, ("X-Demo-User", "dave"));

        Assert.Equal([200, 200], alice);
        Assert.Equal([200, 429], bob);
        Assert.Equal([200], carol);
        Assert.Equal([403], noTenant);
    }

    [Fact]
    public async Task A_custom_resolver_computes_the_key()
    {
        var mobile = await Client.Statuses("/client", 1, ("X-Client", "mobile.v1"));
        var mobileAgain = await Client.Statuses("/client", 2, ("X-Client", "mobile.v2"));
        var web = await Client.Statuses("/client", 1, ("X-Client", "web.v1"));
        var none = await Client.Statuses("/client", 1);

        Assert.Equal([200], mobile);
        Assert.Equal([200, 429], mobileAgain);
        Assert.Equal([200], web);
        Assert.Equal([403], none);
    }

    [Fact]
    public async Task Endpoints_naming_the_same_bucket_share_it()
    {
        var a = await Client.Statuses("/shared/a", 2);
        var b = await Client.Statuses("/shared/b", 2);
        var afterA = await Client.Statuses("/shared/a", 1);
        var afterB = await Client.Statuses("/shared/b", 1);

        Assert.Equal([200, 200, 200, 200, 429, 429], [.. a, .. b, .. afterA, .. afterB]);
    }

    [Fact]
    public async Task A_missing_key_can_be_admitted_instead()
    {
        var client = await StartAsync(CreateFactory(new() { ["TokenBuckets:MissingKey"] = "Admit" }));

        Assert.Equal(Repeat(200, 8), await client.Statuses("/api-key", 8));
    }

    [Fact]
    public async Task A_missing_key_status_code_can_be_changed()
    {
        var client = await StartAsync(CreateFactory(new() { ["TokenBuckets:MissingKeyStatusCode"] = "401" }));

        using var response = await client.GetAsync("/api-key");

        await AssertProblem(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task OnRejected_writes_the_response_after_status_and_headers_are_set()
    {
        var client = await StartAsync(CreateFactory(services: s => s.Configure<TokenBucketOptions>(o => o.OnRejected = async rejected =>
        {
            rejected.HttpContext.Response.ContentType = "text/plain";
            await rejected.HttpContext.Response.WriteAsync($"slow down: {rejected.Reason} by {rejected.Policy.Name} on {rejected.KeySource}, {rejected.Decision?.Remaining} left");
        })));

        var (statuses, rejected) = await PingBurst(async address => (await client.Statuses("/ping", 10, address), await client.Get("/ping", address)));
        using var _ = rejected;
        using var missing = await client.GetAsync("/api-key");

        Assert.Equal(Repeat(200, 10), statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal("1", rejected.Header("Retry-After"));
        Assert.Equal("slow down: RateLimited by GET /ping on ip, 0 left", await rejected.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
        Assert.Equal("slow down: MissingKey by GET /api-key on header:X-Api-Key,  left", await missing.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Every_limited_endpoint_of_the_sample_runs_a_generated_gate()
    {
        var table = Factory.Services.GetRequiredService<EndpointGateTable>();
        var endpoints = Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints;

        var gates = endpoints.Select(table.Get).Where(g => g is not null).SelectMany(g => g!.Gates).Select(g => g.Gate).ToList();

        Assert.True(gates.Count >= 12, $"Only {gates.Count} gates were found.");
        Assert.All(gates, gate =>
        {
            Assert.IsNotType<FallbackTokenBucketGate>(gate);
            Assert.Equal("RateGuard.Generated", gate.GetType().Namespace);
        });
    }

    [Fact]
    public async Task The_store_is_the_configured_one()
    {
        using var response = await Client.GetAsync("/ping");
        var store = Factory.Services.GetRequiredService<RateGuard.Stores.ITokenBucketStore>();

        if (Store == Store.InMemory)
        {
            Assert.IsType<RateGuard.Stores.InMemoryTokenBucketStore>(store);
            return;
        }
        var redis = Assert.IsType<RateGuard.Stores.RedisTokenBucketStore>(store);
        var connection = redis.Connection!;
        var keys = connection.GetServer(connection.GetEndPoints()[0]).Keys(pattern: $"{KeyPrefix}:*").Select(k => (string)k!).Order().ToList();

        // The instance registry and the override table are written by background work whose timing the test does not
        // control; every other key is a bucket's.
        string[] bookkeeping = [$"{KeyPrefix}:instances", $"{KeyPrefix}:overrides"];
        Assert.Equal([$"{KeyPrefix}:GET%20/ping:{{127.0.0.1}}", $"{KeyPrefix}:GET%20/search:{{warm-up}}"], keys.Except(bookkeeping).ToList());
    }
}
