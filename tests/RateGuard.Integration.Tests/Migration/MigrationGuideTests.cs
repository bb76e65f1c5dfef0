using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Migration;

/// <summary>
/// The migration guide's worked example behaves as the guide says, either way: a per-user policy on a group is one
/// bucket per user across the group's endpoints and the app's instances, and another user is untouched.
/// </summary>
public sealed class MigrationGuideTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private readonly string _prefix = "mg" + Guid.NewGuid().ToString("N")[..8];

    // The guide's settings, over this test's Redis; each bucket's refill slowed from configuration, under the name the
    // guide gives it, so that a slow machine cannot hand back a token in the middle of the hundred.
    private Dictionary<string, string?> Settings(bool slowRefill) => new()
    {
        ["TokenBuckets:Redis"] = redis.Server.Configuration,
        ["TokenBuckets:KeyPrefix"] = _prefix,
        // About sharing, not failures: a loaded machine must not turn a decision into fail-open.
        ["TokenBuckets:Timeout"] = "00:00:05",
        ["TokenBuckets:Buckets:todos-per-user:Rate"] = slowRefill ? "0.001" : null,
        ["TokenBuckets:Buckets:todos:Rate"] = slowRefill ? "0.001" : null,
    };

    [Theory]
    [InlineData(MigrationWay.RequireRateLimitingWithTheAdapter)]
    [InlineData(MigrationWay.RequireTokenBucket)]
    public async Task A_user_has_one_bucket_of_100_across_the_group_and_the_instances_and_another_user_is_untouched(MigrationWay way)
    {
        var settings = Settings(slowRefill: true);
        if (way == MigrationWay.RequireRateLimitingWithTheAdapter)
        {
            // Only the bucket each way has is configured: a setting for a bucket the app lacks is reported at startup.
            settings.Remove("TokenBuckets:Buckets:todos:Rate");
        }
        else
        {
            settings.Remove("TokenBuckets:Buckets:todos-per-user:Rate");
        }
        await using var first = await TodoApp.StartAsync(way, settings);
        await using var second = await TodoApp.StartAsync(way, settings);
        var alice = TodoApp.TokenFor("alice");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 100; i++)
        {
            using var response = await SendAsync((i % 2 == 0 ? first : second).Client, alice, i % 3);
            statuses.Add(response.StatusCode);
        }
        using var hundredAndFirst = await SendAsync(second.Client, alice, endpoint: 2);

        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.Created, $"A request within the hundred got {s}."));
        Assert.Equal(HttpStatusCode.TooManyRequests, hundredAndFirst.StatusCode);
        Assert.True(hundredAndFirst.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "The rejection says when to come back.");
        using var bob = await SendAsync(first.Client, TodoApp.TokenFor("bob"), endpoint: 0);
        Assert.Equal(HttpStatusCode.OK, bob.StatusCode);
        // One bucket for alice, in Redis, whichever endpoint and instance she used.
        Assert.Single(redis.Admin.Keys(pattern: $"{_prefix}:*{{alice}}"));
    }

    [Theory]
    [InlineData(MigrationWay.RequireRateLimitingWithTheAdapter)]
    [InlineData(MigrationWay.RequireTokenBucket)]
    public async Task An_anonymous_caller_is_refused_by_authorization_and_takes_no_token(MigrationWay way)
    {
        await using var app = await TodoApp.StartAsync(way, Settings(slowRefill: false));

        using var response = await app.Client.GetAsync("/todos");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(redis.Admin.Keys(pattern: $"{_prefix}:*{{*"));
    }

    [Fact]
    public async Task RateGuards_own_limit_names_the_group_in_its_headers_as_the_guide_shows()
    {
        await using var app = await TodoApp.StartAsync(MigrationWay.RequireTokenBucket, Settings(slowRefill: false));

        using var response = await SendAsync(app.Client, TodoApp.TokenFor("carol"), endpoint: 1);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"/todos\";q=100;w=10", string.Join(",", response.Headers.GetValues("RateLimit-Policy")));
    }

    // The group's three endpoints in turn: the list, one to-do, and a new one.
    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string token, int endpoint)
    {
        var request = endpoint switch
        {
            0 => new HttpRequestMessage(HttpMethod.Get, "/todos"),
            1 => new HttpRequestMessage(HttpMethod.Get, "/todos/1"),
            _ => new HttpRequestMessage(HttpMethod.Post, "/todos") { Content = JsonContent.Create(new NewTodo("Try RateGuard")) },
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client.SendAsync(request).ContinueWith(t =>
        {
            request.Dispose();
            return t.Result;
        }, TaskScheduler.Default);
    }
}
