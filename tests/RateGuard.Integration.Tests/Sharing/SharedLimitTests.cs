using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using StackExchange.Redis;

namespace RateGuard.Integration.Tests.Sharing;

/// <summary>
/// A limit declared on a route group or a controller is one bucket per key that its endpoints share, named after the
/// group's prefix or the controller; the per-endpoint option gives each endpoint its own. In memory with one instance,
/// and over Redis with two instances taking turns, so the sharing holds across instances too.
/// </summary>
public sealed class SharedLimitTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private readonly TakingTurns _instances = new(redis, "sh" + Guid.NewGuid().ToString("N")[..8]);

    public static TheoryData<Store> Stores => new() { Store.InMemory, Store.Redis };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _instances.DisposeAsync();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_group_limit_is_one_bucket_per_key_across_the_groups_endpoints_named_after_its_prefix(Store store)
    {
        await StartAsync(store);

        var statuses = new[] { await Send("GET", "/todos/", "ann"), await Send("GET", "/todos/1", "ann"), await Send("POST", "/todos/", "ann"), await Send("GET", "/todos/2", "ann") };
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s.StatusCode));
        using var rejected = await Send("POST", "/todos/", "ann");

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal("\"/todos\";q=4;w=4000", rejected.Header("RateLimit-Policy"));
        // Another user has a bucket of their own, and an opted-out endpoint none.
        Assert.Equal(HttpStatusCode.OK, (await Send("GET", "/todos/1", "bob")).StatusCode);
        using var health = await Send("GET", "/todos/health", "ann");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Null(health.Header("RateLimit-Policy"));
        if (store == Store.Redis)
        {
            Assert.Equal([$"{_instances.Prefix}:/todos:{{ann}}", $"{_instances.Prefix}:/todos:{{bob}}"], Keys());
        }
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_nested_group_draws_from_its_own_bucket_and_from_the_outer_groups_which_the_outer_groups_other_endpoints_share(Store store)
    {
        await StartAsync(store);

        // Tenant t1's bucket holds 3, shared by the tenant group's two endpoints.
        Assert.Equal<int[]>([200, 200, 200, 429], await Statuses("ann", ("GET", "/api/tenants/t1/orders"), ("GET", "/api/tenants/t1/invoices"), ("GET", "/api/tenants/t1/orders"), ("GET", "/api/tenants/t1/invoices")));
        // The three admitted took 3 of ann's 5 in the outer group's bucket (the rejected one took nothing from either:
        // a request is charged to all its buckets or to none). /api/status draws from it too, as does tenant t2.
        Assert.Equal<int[]>([200, 200], await Statuses("ann", ("GET", "/api/status"), ("GET", "/api/tenants/t2/orders")));
        using var rejected = await Send("GET", "/api/tenants/t2/invoices", "ann");
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal("\"/api\";q=5;w=5000, \"/api/tenants/{tenant}\";q=3;w=3000", rejected.Header("RateLimit-Policy"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task With_perEndpoint_each_endpoint_of_a_group_has_a_bucket_of_its_own_named_after_its_route(Store store)
    {
        await StartAsync(store);

        Assert.Equal<int[]>([200, 200, 429], await Statuses("ann", ("GET", "/each/a"), ("GET", "/each/a"), ("GET", "/each/a")));
        using var other = await Send("GET", "/each/b", "ann");

        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal("\"GET /each/b\";q=2;w=2000", other.Header("RateLimit-Policy"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Two_limits_on_one_group_are_two_shared_buckets_the_second_numbered(Store store)
    {
        await StartAsync(store);

        Assert.Equal<int[]>([200, 200, 200, 429], await Statuses("ann", ("GET", "/twice/a"), ("GET", "/twice/b"), ("GET", "/twice/a"), ("GET", "/twice/b")));
        using var response = await Send("GET", "/twice/a", "bob");

        Assert.Equal("\"/twice\";q=3;w=3000, \"/twice #2\";q=10;w=10000", response.Header("RateLimit-Policy"));
        // The global bucket counted the admitted requests of both users: 3 of ann's and this one. The rejected one took
        // nothing from it: a request is charged to all its buckets or to none.
        Assert.Equal("\"/twice\";r=2;t=1000, \"/twice #2\";r=6;t=4000", response.Header("RateLimit"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_controller_limit_is_one_bucket_per_key_across_its_actions_named_after_the_controller(Store store)
    {
        await StartAsync(store);

        Assert.Equal<int[]>([200, 200, 200, 429], await Statuses("ann", ("GET", "/sharing/orders"), ("GET", "/sharing/orders/7"), ("POST", "/sharing/orders"), ("GET", "/sharing/orders/8")));
        using var rejected = await Send("GET", "/sharing/orders", "ann");
        Assert.Equal("\"OrdersController\";q=3;w=3000", rejected.Header("RateLimit-Policy"));

        // The action with a limit of its own has both; the opted-out action neither.
        using var import = await Send("POST", "/sharing/orders/import", "bob");
        Assert.Equal(HttpStatusCode.OK, import.StatusCode);
        Assert.Equal("\"OrdersController\";q=3;w=3000, \"POST /sharing/orders/import\";q=1;w=1000", import.Header("RateLimit-Policy"));
        Assert.Equal(200, await Status("GET", "/sharing/orders/health", "ann"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task With_PerEndpoint_each_action_of_a_controller_has_a_bucket_of_its_own(Store store)
    {
        await StartAsync(store);

        Assert.Equal<int[]>([200, 200, 429], await Statuses("ann", ("GET", "/sharing/invoices"), ("GET", "/sharing/invoices"), ("GET", "/sharing/invoices")));
        using var other = await Send("GET", "/sharing/invoices/3", "ann");

        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal("\"GET /sharing/invoices/{id}\";q=2;w=2000", other.Header("RateLimit-Policy"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_limit_inherited_from_a_base_controller_is_one_bucket_for_each_controller_that_inherits_it(Store store)
    {
        await StartAsync(store);

        Assert.Equal<int[]>([200, 200, 429], await Statuses("ann", ("GET", "/sharing/books/first"), ("GET", "/sharing/books/second"), ("GET", "/sharing/books/first")));
        using var films = await Send("GET", "/sharing/films/second", "ann");

        Assert.Equal(HttpStatusCode.OK, films.StatusCode);
        Assert.Equal("\"FilmsController\";q=2;w=2000", films.Header("RateLimit-Policy"));
    }

    [Fact]
    public async Task PerEndpoint_with_a_Bucket_name_stops_the_app_at_startup_naming_the_endpoint_and_the_rule()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets();
        await using var app = builder.Build();
        app.UseTokenBuckets();
        // Not constant, so the analyzer cannot see it and the check falls to startup.
        app.MapGroup("/both").RequireTokenBucket(2, 1, bucket: "both".ToString(), perEndpoint: bool.Parse("true")).MapGet("/", () => "never");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.Contains("/both", error.Message);
        Assert.Contains(LimitRules.PerEndpointOrBucket, error.Message);
    }

    [Fact]
    public async Task A_limit_added_to_a_group_as_metadata_gives_each_endpoint_a_bucket_of_its_own()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets();
        await using var app = builder.Build();
        app.UseTokenBuckets();
        var group = app.MapGroup("/meta").WithMetadata(new TokenBucketAttribute(1, 0.001) { Key = "global" });
        group.MapGet("/a", () => "a");
        group.MapGet("/b", () => "b");
        await app.StartAsync();
        var client = app.GetTestClient();

        using var a = await client.GetAsync("/meta/a");
        using var b = await client.GetAsync("/meta/b");

        Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        Assert.Equal("\"GET /meta/b\";q=1;w=1000", b.Header("RateLimit-Policy"));
    }

    private Task StartAsync(Store store) =>
        _instances.StartAsync(store, server => SharingApp.StartAsync(server, _instances.Prefix), app => app.Client);

    private Task<HttpResponseMessage> Send(string method, string path, string user) => _instances.Send(method, path, user);

    private Task<int> Status(string method, string path, string user) => _instances.Status(method, path, user);

    private async Task<int[]> Statuses(string user, params (string Method, string Path)[] requests)
    {
        var statuses = new int[requests.Length];
        for (var i = 0; i < requests.Length; i++)
        {
            statuses[i] = await Status(requests[i].Method, requests[i].Path, user);
        }
        return statuses;
    }

    private string[] Keys() => _instances.Keys();
}
