using System.Net;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using StackExchange.Redis;

namespace RateGuard.Integration.Tests.NamedLimits;

/// <summary>
/// A limit declared once with <c>[assembly: TokenBucketLimit]</c> is one bucket, named after the limit, that every place
/// using it by name draws from (a handler's attribute, an endpoint's and a group's <c>RequireTokenBucket</c>, metadata,
/// an MVC action), across app instances over Redis; configuration overrides it by its name; an undeclared name stops
/// the app.
/// </summary>
public sealed class NamedLimitTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private readonly TakingTurns _instances = new(redis, "nl" + Guid.NewGuid().ToString("N")[..8]);

    public static TheoryData<Store> Stores => new() { Store.InMemory, Store.Redis };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _instances.DisposeAsync();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Every_use_of_a_declared_limit_draws_from_its_one_bucket_named_after_it(Store store)
    {
        await StartAsync(store);

        // Five tokens for ann, whichever use and instance each request reaches; the sixth is refused.
        var statuses = new List<int>();
        foreach (var (method, path) in NamedLimitApp.Uses)
        {
            statuses.Add(await Status(method, path, "ann"));
        }
        Assert.Equal([200, 200, 200, 200, 200, 429], statuses);

        using var rejected = await Send("POST", "/notes", "ann");
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.NotNull(rejected.Headers.RetryAfter);
        Assert.Equal("\"writes\";q=5;w=5000", rejected.Header("RateLimit-Policy"));
        // Another client has a bucket of its own, and an endpoint that uses no limit none.
        using var bob = await Send("POST", "/named/archive", "bob");
        Assert.Equal(HttpStatusCode.OK, bob.StatusCode);
        Assert.Equal("\"writes\";q=5;w=5000", bob.Header("RateLimit-Policy"));
        using var health = await Send("GET", "/health", "ann");
        Assert.Null(health.Header("RateLimit-Policy"));
        if (store == Store.Redis)
        {
            Assert.Equal([$"{_instances.Prefix}:writes:{{ann}}", $"{_instances.Prefix}:writes:{{bob}}"], Keys());
        }
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_configuration_override_under_the_limits_name_applies_to_every_use(Store store)
    {
        await StartAsync(store, new() { ["Buckets:writes:Capacity"] = "2" });

        int[] statuses = [await Status("POST", "/drafts/", "ann"), await Status("POST", "/named/archive", "ann"), await Status("PUT", "/notes/7", "ann"), await Status("POST", "/notes", "ann")];
        Assert.Equal([200, 200, 429, 429], statuses);
        using var rejected = await Send("DELETE", "/notes/7", "ann");
        Assert.Equal("\"writes\";q=2;w=2000", rejected.Header("RateLimit-Policy"));
    }

    [Fact]
    public async Task An_undeclared_name_stops_the_app_naming_the_declared_limits()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => NamedLimitApp.StartAsync(null, _instances.Prefix, requiredLimit: "wrtes"));

        Assert.Contains("No token-bucket limit is named 'wrtes'", failure.Message);
        // The process may know other declared limits too (the registry is the process's): 'writes' is among them.
        Assert.Matches("the declared limits are [^)]*'writes'", failure.Message);
        Assert.Contains("Did you mean 'writes'?", failure.Message);
        Assert.Contains("PUT /notes/{id}", failure.Message);
    }

    // One instance in memory; two over one Redis, which requests alternate between.
    private Task StartAsync(Store store, Dictionary<string, string?>? settings = null) =>
        _instances.StartAsync(store, server => NamedLimitApp.StartAsync(server, _instances.Prefix, settings), app => app.Client);

    private Task<HttpResponseMessage> Send(string method, string path, string user) => _instances.Send(method, path, user);

    private Task<int> Status(string method, string path, string user) => _instances.Status(method, path, user);

    private string[] Keys() => _instances.Keys();
}
