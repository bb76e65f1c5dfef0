using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Operations;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// <c>GET</c>, <c>PUT</c> and <c>DELETE overrides</c> over the real operations service and the in-memory store: the
/// status codes, the JSON, and every way a request can be refused.
/// </summary>
public sealed class AdminOverridesTests
{
    private const string Alice = """{"bucket": "GET /items/{id}", "key": "alice", "capacity": 5, "rate": 0.5, "expiresAfterSeconds": 3600}""";

    [Fact]
    public async Task An_override_is_set_with_put_listed_with_get_and_removed_with_delete()
    {
        await using var app = await AdminApp.StartAsync();
        var before = DateTimeOffset.UtcNow;

        using var put = await app.AdminAsync(HttpMethod.Put, "overrides", Alice);
        var after = DateTimeOffset.UtcNow;
        using var listed = await AdminJsonTests.ReadJsonAsync(await app.AdminAsync(HttpMethod.Get, "overrides"));
        using var delete = await app.AdminAsync(HttpMethod.Delete, "overrides", """{"bucket": "GET /items/{id}", "key": "alice"}""");
        using var empty = await AdminJsonTests.ReadJsonAsync(await app.AdminAsync(HttpMethod.Get, "overrides"));
        using var again = await app.AdminAsync(HttpMethod.Delete, "overrides", """{"bucket": "GET /items/{id}", "key": "alice"}""");

        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal("", await put.Content.ReadAsStringAsync());
        var entry = Assert.Single(listed.RootElement.EnumerateArray());
        Assert.Equal(["bucket", "key", "capacity", "rate", "expiresAt", "expiresAfterSeconds"], entry.EnumerateObject().Select(p => p.Name));
        Assert.Equal(AdminApp.Bucket, entry.GetProperty("bucket").GetString());
        Assert.Equal("alice", entry.GetProperty("key").GetString());
        Assert.Equal(5, entry.GetProperty("capacity").GetInt32());
        Assert.Equal(0.5, entry.GetProperty("rate").GetDouble());
        var expiresAt = entry.GetProperty("expiresAt").GetString()!;
        Assert.EndsWith("Z", expiresAt); // ISO 8601, in UTC
        Assert.InRange(DateTimeOffset.Parse(expiresAt, System.Globalization.CultureInfo.InvariantCulture), before.AddHours(1).AddMilliseconds(-1), after.AddHours(1));
        Assert.InRange(entry.GetProperty("expiresAfterSeconds").GetDouble(), 3_590, 3_600);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal(JsonValueKind.Array, empty.RootElement.ValueKind);
        Assert.Equal(0, empty.RootElement.GetArrayLength());
        Assert.Equal(
            "There is no client override of 'alice' on bucket 'GET /items/{id}' (or it has expired), so nothing was removed. GET overrides lists those in force.",
            await AdminErrorTests.AssertProblemAsync(again, HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task An_override_set_through_the_admin_api_admits_its_client_up_to_its_capacity_at_once()
    {
        await using var app = await AdminApp.StartAsync();

        using var put = await app.AdminAsync(HttpMethod.Put, "overrides", """{"bucket": "GET /items/{id}", "key": "bob", "capacity": 5, "rate": 0.001, "expiresAfterSeconds": 3600}""");
        var bob = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            bob.Add(await app.RequestItemAsync("bob"));
        }

        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        // The endpoint's own limit is 2; bob's override, 5.
        Assert.Equal([200, 200, 200, 200, 200, 429], bob);
        await app.RejectAsync("alice");
    }

    public static TheoryData<string, string> NotAnOverride => new()
    {
        { "not json", "not valid JSON" },
        { "[\"GET /items/{id}\", \"alice\"]", "a JSON array, not an object" },
        { """{"key": "alice", "capacity": 5, "rate": 1, "expiresAfterSeconds": 60}""", "The body has no \"bucket\". Send {\"bucket\": \"...\", \"key\": \"...\", \"capacity\": 100, \"rate\": 10, \"expiresAfterSeconds\": 3600}." },
        { """{"bucket": "GET /items/{id}", "key": 42, "capacity": 5, "rate": 1, "expiresAfterSeconds": 60}""", "The body's \"key\" is a JSON number; it must be a string." },
        { """{"bucket": "GET /items/{id}", "key": "", "capacity": 5, "rate": 1, "expiresAfterSeconds": 60}""", "The body's \"key\" is empty" },
        { """{"bucket": "GET /items/{id}", "key": "alice", "rate": 1, "expiresAfterSeconds": 60}""", "The body has no \"capacity\"." },
        { """{"bucket": "GET /items/{id}", "key": "alice", "capacity": "5", "rate": 1, "expiresAfterSeconds": 60}""", "The body's \"capacity\" is a JSON string; it must be a number." },
        { """{"bucket": "GET /items/{id}", "key": "alice", "capacity": 1.5, "rate": 1, "expiresAfterSeconds": 60}""", "The body's \"capacity\" is 1.5; it must be a whole number of tokens, at least 1." },
        { """{"bucket": "GET /items/{id}", "key": "alice", "capacity": 0, "rate": 1, "expiresAfterSeconds": 60}""", "The override's capacity 0 is invalid: a capacity is a whole number of tokens, at least 1: the largest burst the bucket admits." },
        { """{"bucket": "GET /items/{id}", "key": "alice", "capacity": 5, "expiresAfterSeconds": 60}""", "The body has no \"rate\"." },
        { """{"bucket": "GET /items/{id}", "key": "alice", "capacity": 5, "rate": 0, "expiresAfterSeconds": 60}""", "The override's rate 0 is invalid: a rate is the tokens added per second: a number above 0 and at most 1,000,000, one token per microsecond." },
        { """{"bucket": "GET /items/{id}", "key": "alice", "capacity": 5, "rate": 1}""", "The body has no \"expiresAfterSeconds\"." },
        { """{"bucket": "GET /items/{id}", "key": "alice", "capacity": 5, "rate": 1, "expiresAfterSeconds": 0}""", "The override's lifetime of 0 s is invalid: an override lasts more than 0 seconds and at most 365 days (31536000 s); set it again before it ends to keep it longer." },
        { """{"bucket": "GET /items/{id}", "key": "alice", "capacity": 5, "rate": 1, "expiresAfterSeconds": 1e300}""", "The override's lifetime of 1E+300 s is invalid" },
    };

    [Theory]
    [MemberData(nameof(NotAnOverride))]
    public async Task An_override_body_that_is_not_a_valid_override_is_400_saying_what_is_wrong(string body, string reason)
    {
        await using var app = await AdminApp.StartAsync();

        using var response = await app.AdminAsync(HttpMethod.Put, "overrides", body);

        Assert.Contains(reason, await AdminErrorTests.AssertProblemAsync(response, HttpStatusCode.BadRequest));
        Assert.Empty(await Operations(app).GetOverridesAsync());
    }

    [Fact]
    public async Task A_capacity_below_the_cost_of_one_request_is_400()
    {
        await using var app = await AdminApp.StartAsync(map: app => app.MapGet("/exports", () => "export").RequireTokenBucket(10, 1, key: "header:" + AdminApp.ClientHeader, cost: 4));

        using var response = await app.AdminAsync(HttpMethod.Put, "overrides", """{"bucket": "GET /exports", "key": "alice", "capacity": 3, "rate": 1, "expiresAfterSeconds": 60}""");

        Assert.Equal(
            "The override's capacity 3 is below the 4 tokens one request to bucket 'GET /exports' takes, so the client could never be admitted: give a capacity of at least 4.",
            await AdminErrorTests.AssertProblemAsync(response, HttpStatusCode.BadRequest));
    }

    [Theory]
    [InlineData("PUT", "application/x-www-form-urlencoded")]
    [InlineData("PUT", "text/plain")]
    [InlineData("PUT", "")]
    [InlineData("DELETE", "text/plain")]
    [InlineData("DELETE", "")]
    public async Task An_override_sent_as_anything_but_JSON_is_415_so_a_cross_site_form_cannot_send_it(string method, string contentType)
    {
        await using var app = await AdminApp.StartAsync();

        using var response = await app.AdminAsync(new HttpMethod(method), "overrides", Alice, contentType);

        var detail = await AdminErrorTests.AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.StartsWith(method == "PUT" ? "An override takes a JSON body sent as Content-Type: application/json" : "A removal takes a JSON body sent as Content-Type: application/json", detail);
        Assert.Empty(await Operations(app).GetOverridesAsync());
    }

    [Fact]
    public async Task An_override_body_larger_than_any_override_is_413()
    {
        await using var app = await AdminApp.StartAsync();

        using var response = await app.AdminAsync(HttpMethod.Put, "overrides", Alice.Replace("alice", new string('a', 20_000)));

        Assert.StartsWith("The body of an override is at most 16384 bytes", await AdminErrorTests.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge));
    }

    [Fact]
    public async Task An_override_of_a_bucket_the_app_does_not_have_is_404_naming_the_closest_one()
    {
        await using var app = await AdminApp.StartAsync();

        using var response = await app.AdminAsync(HttpMethod.Put, "overrides", Alice.Replace("GET /items/{id}", "GET /item/{id}"));

        Assert.Equal(
            "There is no bucket 'GET /item/{id}'. Did you mean 'GET /items/{id}'? Bucket names are case-sensitive, as rate-limit headers give them.",
            await AdminErrorTests.AssertProblemAsync(response, HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task One_override_more_than_MaxOverrides_is_409_and_a_replacement_is_not()
    {
        await using var app = await AdminApp.StartAsync(services => services.Configure<TokenBucketOptions>(o => o.MaxOverrides = 1));
        using var first = await app.AdminAsync(HttpMethod.Put, "overrides", Alice);

        using var second = await app.AdminAsync(HttpMethod.Put, "overrides", Alice.Replace("alice", "bob"));
        using var replacement = await app.AdminAsync(HttpMethod.Put, "overrides", Alice.Replace("\"capacity\": 5", "\"capacity\": 6"));

        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal(
            "The store already holds 1 client overrides, the most TokenBuckets:MaxOverrides allows (1), so the override of client 'bob' on bucket 'GET /items/{id}' is not set. Remove one, let one expire, or raise TokenBuckets:MaxOverrides.",
            await AdminErrorTests.AssertProblemAsync(second, HttpStatusCode.Conflict));
        Assert.Equal(HttpStatusCode.NoContent, replacement.StatusCode);
        Assert.Equal([("alice", 6)], (await Operations(app).GetOverridesAsync()).Select(o => (o.Key, o.Capacity)));
    }

    [Fact]
    public async Task Operations_that_keep_no_overrides_are_501()
    {
        await using var app = await AdminApp.StartAsync(services => services.AddSingleton<ITokenBucketOperations>(new FakeTokenBucketOperations()));

        using var get = await app.AdminAsync(HttpMethod.Get, "overrides");
        using var put = await app.AdminAsync(HttpMethod.Put, "overrides", Alice);
        using var delete = await app.AdminAsync(HttpMethod.Delete, "overrides", """{"bucket": "GET /items/{id}", "key": "alice"}""");

        Assert.Equal("FakeTokenBucketOperations does not keep client overrides.", await AdminErrorTests.AssertProblemAsync(get, HttpStatusCode.NotImplemented));
        Assert.Equal("FakeTokenBucketOperations does not set client overrides.", await AdminErrorTests.AssertProblemAsync(put, HttpStatusCode.NotImplemented));
        Assert.Equal("FakeTokenBucketOperations does not remove client overrides.", await AdminErrorTests.AssertProblemAsync(delete, HttpStatusCode.NotImplemented));
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task The_overrides_route_answers_only_users_the_policy_admits(string method)
    {
        await using var app = await AdminApp.StartAsync();
        var body = method == "GET" ? null : Alice;

        using var anonymous = await app.AdminAsync(new HttpMethod(method), "overrides", body, user: null);
        using var developer = await app.AdminAsync(new HttpMethod(method), "overrides", body, user: "mallory", roles: "developer");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, developer.StatusCode);
        Assert.Empty(await Operations(app).GetOverridesAsync());
    }

    private static ITokenBucketOperations Operations(AdminApp app) => app.App.Services.GetRequiredService<ITokenBucketOperations>();
}
