using System.Diagnostics;
using System.Net;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Testing;
using Xunit.Abstractions;

namespace RateGuard.Integration.Tests.Resilience;

/// <summary>Redis killed with SIGKILL under steady traffic, in both failure modes, and brought back.</summary>
[Collection(TimingCollection.Name)]
public sealed class RedisFailureTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(100);

    private static Dictionary<string, string?> Settings(RedisServer redis, string failureMode) => new()
    {
        ["TokenBuckets:Redis"] = $"127.0.0.1:{redis.Port}",
        ["TokenBuckets:FailureMode"] = failureMode,
        ["TokenBuckets:Timeout"] = Budget.ToString(),
        ["TokenBuckets:BreakDuration"] = "00:00:00.250",
        ["TokenBuckets:DenyCache"] = "false",
    };

    [Fact]
    public async Task Fail_open_answers_every_request_within_the_budget_without_a_5xx_and_resumes_within_two_seconds()
    {
        var port = RedisServer.FreePort();
        var redis = RedisServer.Start(port);
        await using var app = await ResilienceApp.StartAsync(Settings(redis, "Open"));
        try
        {
            var before = await Traffic(app, TimeSpan.FromMilliseconds(500));
            Assert.Contains(before, r => r.Status == 429);

            redis.Kill();
            var during = await Traffic(app, TimeSpan.FromSeconds(1.5));
            output.WriteLine($"after the kill: {during.Count} requests, slowest {during.Max(r => r.Milliseconds):F1} ms, statuses {string.Join(",", during.Select(r => r.Status).Distinct())}");

            Assert.All(during, r => Assert.True(r.Status is 200 or 429, $"Got {r.Status} while Redis was down."));
            Assert.All(during, r => Assert.True(r.Milliseconds <= Budget.TotalMilliseconds + 50, $"A request took {r.Milliseconds:F1} ms."));
            Assert.Contains(during, r => r.Status == 200 && !r.Limited); // admitted unlimited: the failure mode

            redis.Dispose();
            redis = RedisServer.Start(port);
            var resumed = await TimeUntilLimited(app);
            output.WriteLine($"limiting resumed {resumed.TotalMilliseconds:F0} ms after Redis restarted");
            Assert.True(resumed < TimeSpan.FromSeconds(2), $"Limiting resumed only after {resumed}.");
        }
        finally
        {
            redis.Dispose();
        }
    }

    [Fact]
    public async Task Fail_closed_answers_every_request_503_with_retry_after_while_redis_is_down()
    {
        var port = RedisServer.FreePort();
        var redis = RedisServer.Start(port);
        await using var app = await ResilienceApp.StartAsync(Settings(redis, "Closed"));
        try
        {
            await Traffic(app, TimeSpan.FromMilliseconds(300));

            redis.Kill();
            var during = await Traffic(app, TimeSpan.FromSeconds(1));

            Assert.All(during, r =>
            {
                Assert.Equal(503, r.Status);
                Assert.True(r.RetryAfter is >= 1, "A 503 without Retry-After.");
                Assert.True(r.Milliseconds <= Budget.TotalMilliseconds + 50, $"A request took {r.Milliseconds:F1} ms.");
            });

            redis.Dispose();
            redis = RedisServer.Start(port);
            var resumed = await TimeUntilLimited(app);
            Assert.True(resumed < TimeSpan.FromSeconds(2), $"Limiting resumed only after {resumed}.");
        }
        finally
        {
            redis.Dispose();
        }
    }

    [Fact]
    public async Task A_bucket_can_fail_closed_while_the_rest_fail_open()
    {
        using var redis = RedisServer.Start();
        var settings = Settings(redis, "Open");
        settings["TokenBuckets:Buckets:critical:FailureMode"] = "Closed";
        await using var app = await ResilienceApp.StartAsync(settings);
        await app.Client.GetAsync("/limited");

        redis.Kill();
        using var limited = await app.Client.GetAsync("/limited");
        using var critical = await app.Client.GetAsync("/critical");

        Assert.Equal(HttpStatusCode.OK, limited.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, critical.StatusCode);
        Assert.NotNull(critical.Headers.RetryAfter);
        Assert.Equal("application/problem+json", critical.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_app_starts_with_redis_down_applies_the_failure_mode_and_limits_once_redis_arrives()
    {
        var port = RedisServer.FreePort();
        var clock = Stopwatch.StartNew();
        await using var app = await ResilienceApp.StartAsync(new()
        {
            ["TokenBuckets:Redis"] = $"127.0.0.1:{port},connectTimeout=500",
            ["TokenBuckets:BreakDuration"] = "00:00:00.250",
        });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"Starting took {clock.Elapsed} with Redis down.");

        var down = await Traffic(app, TimeSpan.FromMilliseconds(300));
        Assert.All(down, r => Assert.Equal((200, false), (r.Status, r.Limited)));
        using var unhealthy = await app.Client.GetAsync("/health");
        Assert.Equal("Degraded", await unhealthy.Content.ReadAsStringAsync());

        using var redis = RedisServer.Start(port);
        var resumed = await TimeUntilLimited(app, TimeSpan.FromSeconds(15));
        output.WriteLine($"limiting began {resumed.TotalMilliseconds:F0} ms after Redis started");
        using var healthy = await app.Client.GetAsync("/health");
        Assert.Equal("Healthy", await healthy.Content.ReadAsStringAsync());
    }

    private static async Task<List<(int Status, double Milliseconds, bool Limited, long? RetryAfter)>> Traffic(ResilienceApp app, TimeSpan duration)
    {
        var results = new List<(int, double, bool, long?)>();
        var run = Stopwatch.StartNew();
        while (run.Elapsed < duration)
        {
            var clock = Stopwatch.StartNew();
            using var response = await app.Client.GetAsync("/limited");
            results.Add(((int)response.StatusCode, clock.Elapsed.TotalMilliseconds, response.Headers.Contains("RateLimit"), (long?)response.Headers.RetryAfter?.Delta?.TotalSeconds));
        }
        return results;
    }

    // Limiting is back when a response again carries the bucket's state, which only a decision by Redis gives.
    private static async Task<TimeSpan> TimeUntilLimited(ResilienceApp app, TimeSpan? limit = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (limit ?? TimeSpan.FromSeconds(5)))
        {
            using var response = await app.Client.GetAsync("/limited");
            if (response.Headers.Contains("RateLimit"))
            {
                return clock.Elapsed;
            }
            await Task.Delay(10);
        }
        throw new TimeoutException("Limiting did not resume.");
    }
}
