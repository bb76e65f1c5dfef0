using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Operations;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>Each way an admin request can fail is a problem with the status that fits it and a detail that says why.</summary>
public sealed class AdminErrorTests
{
    [Theory]
    [InlineData("inspect", "no \"bucket\"")]
    [InlineData("inspect?key=alice", "no \"bucket\"")]
    [InlineData("inspect?bucket=GET%20%2Fitems%2F%7Bid%7D", "no \"key\"")]
    [InlineData("inspect?bucket=GET%20%2Fitems%2F%7Bid%7D&key=", "\"key\" is empty")]
    [InlineData("inspect?bucket=&key=alice", "\"bucket\" is empty")]
    [InlineData("inspect?bucket=a&bucket=b&key=alice", "\"bucket\" 2 times")]
    public async Task Inspect_without_one_bucket_and_one_key_is_400(string route, string reason)
    {
        await using var app = await StartAsync(new FakeTokenBucketOperations());

        using var response = await app.AdminAsync(HttpMethod.Get, route);

        Assert.Contains(reason, await AssertProblemAsync(response, HttpStatusCode.BadRequest));
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[\"GET /items/{id}\", \"alice\"]", "a JSON array, not an object")]
    [InlineData("{\"key\": \"alice\"}", "no \"bucket\"")]
    [InlineData("{\"bucket\": \"GET /items/{id}\"}", "no \"key\"")]
    [InlineData("{\"bucket\": \"GET /items/{id}\", \"key\": 42}", "\"key\" is a JSON number; it must be a string")]
    [InlineData("{\"bucket\": \"GET /items/{id}\", \"key\": \"\"}", "\"key\" is empty")]
    public async Task Reset_with_a_body_that_is_not_a_bucket_and_a_key_is_400(string body, string reason)
    {
        var fake = new FakeTokenBucketOperations();
        await using var app = await StartAsync(fake);

        using var response = await app.AdminAsync(HttpMethod.Post, "reset", body);

        Assert.Contains(reason, await AssertProblemAsync(response, HttpStatusCode.BadRequest));
        Assert.Empty(fake.Resets);
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("text/plain")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/json; charset=utf-16")]
    [InlineData("")]
    public async Task Reset_with_anything_but_a_JSON_content_type_is_415_so_a_cross_site_form_cannot_send_it(string contentType)
    {
        var fake = new FakeTokenBucketOperations();
        await using var app = await StartAsync(fake);

        using var response = await app.AdminAsync(HttpMethod.Post, "reset", """{"bucket": "GET /items/{id}", "key": "alice"}""", contentType);

        Assert.Contains("Content-Type: application/json", await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType));
        Assert.Empty(fake.Resets);
    }

    [Fact]
    public async Task Reset_with_a_JSON_content_type_and_charset_is_taken()
    {
        var fake = new FakeTokenBucketOperations();
        await using var app = await StartAsync(fake);

        using var response = await app.AdminAsync(HttpMethod.Post, "reset", """{"bucket": "GET /items/{id}", "key": "alice"}""", "application/json; charset=utf-8");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal([("GET /items/{id}", "alice")], fake.Resets);
    }

    [Fact]
    public async Task Reset_with_a_body_larger_than_any_bucket_and_key_is_413()
    {
        var fake = new FakeTokenBucketOperations();
        await using var app = await StartAsync(fake);

        var body = $$"""{"bucket": "GET /items/{id}", "key": "{{new string('a', 20_000)}}"}""";
        using var response = await app.AdminAsync(HttpMethod.Post, "reset", body);

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Empty(fake.Resets);
    }

    [Fact]
    public async Task A_store_that_cannot_be_reached_is_503_with_its_message()
    {
        var fake = new FakeTokenBucketOperations { Failure = new TokenBucketStoreUnavailableException("Redis 127.0.0.1:6379 did not answer within 100 ms.") };
        await using var app = await StartAsync(fake);

        using var inspect = await app.AdminAsync(HttpMethod.Get, "inspect?bucket=GET%20%2Fitems%2F%7Bid%7D&key=alice");
        using var reset = await app.AdminAsync(HttpMethod.Post, "reset", """{"bucket": "GET /items/{id}", "key": "alice"}""");

        Assert.Equal("Redis 127.0.0.1:6379 did not answer within 100 ms.", await AssertProblemAsync(inspect, HttpStatusCode.ServiceUnavailable));
        Assert.Equal("Redis 127.0.0.1:6379 did not answer within 100 ms.", await AssertProblemAsync(reset, HttpStatusCode.ServiceUnavailable));
    }

    [Fact]
    public async Task A_store_that_does_not_support_the_operation_is_501_with_its_message()
    {
        var fake = new FakeTokenBucketOperations { Failure = new NotSupportedException("This store cannot reset a bucket.") };
        await using var app = await StartAsync(fake);

        using var response = await app.AdminAsync(HttpMethod.Post, "reset", """{"bucket": "GET /items/{id}", "key": "alice"}""");

        Assert.Equal("This store cannot reset a bucket.", await AssertProblemAsync(response, HttpStatusCode.NotImplemented));
    }

    [Fact]
    public async Task An_unknown_bucket_is_404_with_the_operations_message()
    {
        await using var app = await StartAsync(new FakeTokenBucketOperations());

        using var inspect = await app.AdminAsync(HttpMethod.Get, "inspect?bucket=GET%20%2Fitemz&key=alice");
        using var reset = await app.AdminAsync(HttpMethod.Post, "reset", """{"bucket": "GET /itemz", "key": "alice"}""");

        Assert.Equal("No bucket is named 'GET /itemz'.", await AssertProblemAsync(inspect, HttpStatusCode.NotFound));
        Assert.Equal("No bucket is named 'GET /itemz'.", await AssertProblemAsync(reset, HttpStatusCode.NotFound));
    }

    /// <summary>Asserts a problem body with <paramref name="status"/> and the admin headers; returns its detail.</summary>
    internal static async Task<string> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Header("Cache-Control"));
        Assert.Equal("nosniff", response.Header("X-Content-Type-Options"));
        using var body = JsonDocument.Parse(text);
        var root = body.RootElement;
        Assert.Equal(["type", "title", "status", "detail"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal((int)status, root.GetProperty("status").GetInt32());
        Assert.StartsWith("https://www.rfc-editor.org/rfc/rfc9110#section-15.", root.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("title").GetString()));
        return root.GetProperty("detail").GetString()!;
    }

    private static Task<AdminApp> StartAsync(FakeTokenBucketOperations fake) =>
        AdminApp.StartAsync(services => services.AddSingleton<ITokenBucketOperations>(fake));
}
