using System.Diagnostics;
using System.Net;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Integration.Tests.Resilience;

/// <summary>Redis killed with SIGKILL under steady traffic, in both failure modes, and brought back.</summary>
[Collection(TimingCollection.Name)]
public sealed class RedisFailureTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_budget = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan s_breakDuration = TimeSpan.FromMilliseconds(250);

    private const int BreakerThreshold = 3;

    // The calls that reach a dead Redis in a window: the ones that open the circuit, then one probe per break at most
    // (a failed probe opens a new break), and one more for a break that the window cuts.
    private static int MostCallsWhileDown(TimeSpan window) => BreakerThreshold + (int)(window / s_breakDuration) + 1;

    private static Dictionary<string, string?> Settings(RedisServer redis, string failureMode) => new()
    {
        ["TokenBuckets:Redis"] = $"127.0.0.1:{redis.Port}",
        ["TokenBuckets:FailureMode"] = failureMode,
        ["TokenBuckets:Timeout"] = s_budget.ToString(),
        ["TokenBuckets:BreakDuration"] = s_breakDuration.ToString(),
        ["TokenBuckets:BreakerFailureThreshold"] = BreakerThreshold.ToString(),
        ["TokenBuckets:DenyCache"] = "false",
    };

    // How long one call may wait for a dead or hung Redis is the limiter's budget, checked on the limiter's own clock
    // (Runtime tests, LimiterResilienceTests); the wall-clock latency of requests while Redis is away depends on the
    // machine and is measured by bench/faults.py (pause). Here: every request is answered by the failure mode, and
    // Redis is asked only to open the circuit and then once per break, so every other request waits for no call at all.

    [Theory]
    [InlineData("Open")]
    [InlineData("AdmitAll")]
    public async Task Failing_open_answers_every_request_without_a_5xx_asks_redis_only_to_open_the_circuit_and_probe_and_resumes(string failureMode)
    {
        var port = RedisServer.FreePort();
        var redis = RedisServer.Start(port);
        await using var app = await ResilienceApp.StartAsync(Settings(redis, failureMode));
        try
        {
            // Redis limits before the kill: a burst past the capacity is rejected, however slowly this machine sends it.
            await UntilRejected(app);

            using var calls = MeterCounts.StoreCalls(app);
            var outage = Stopwatch.StartNew();
            redis.Kill();
            var during = await Traffic(app, TimeSpan.FromSeconds(1.5));
            var asked = calls.Total;
            output.WriteLine($"after the kill: {during.Count} requests in {outage.Elapsed.TotalMilliseconds:F0} ms, {asked} store calls ({string.Join(", ", calls.ByValue.Select(o => $"{o.Key} {o.Value}"))}), slowest {during.Max(r => r.Milliseconds):F1} ms, statuses {string.Join(",", during.Select(r => r.Status).Distinct())}");

            Assert.All(during, r => Assert.True(r.Status is 200 or 429, $"Got {r.Status} while Redis was down."));
            if (failureMode == "Open")
            {
                // This instance's share of the bucket (all of it: one instance), starting from what Redis last said of
                // it, so every answer carries the bucket's state and admissions stay within the limit.
                Assert.All(during, r => Assert.True(r.Limited, "An answer without the bucket's state while Redis was down."));
                Assert.InRange(during.Count(r => r.Status == 200), 0, 5 + outage.Elapsed.TotalSeconds);
            }
            else
            {
                Assert.Contains(during, r => r.Status == 200 && !r.Limited); // admitted unchecked
            }
            Assert.InRange(asked, 1, MostCallsWhileDown(outage.Elapsed));
            Assert.True(during.Count > asked, $"All {during.Count} requests called Redis: the circuit never answered one.");

            redis.Dispose();
            redis = RedisServer.Start(port);
            var resumed = await TimeUntilRedisDecides(app);
            output.WriteLine($"limiting resumed {resumed.TotalMilliseconds:F0} ms after Redis restarted");
        }
        finally
        {
            redis.Dispose();
        }
    }

    [Fact]
    public async Task Fail_closed_answers_every_request_503_with_retry_after_while_redis_is_down_and_asks_it_only_to_probe()
    {
        var port = RedisServer.FreePort();
        var redis = RedisServer.Start(port);
        await using var app = await ResilienceApp.StartAsync(Settings(redis, "Closed"));
        try
        {
            await Traffic(app, TimeSpan.FromMilliseconds(300));

            using var calls = MeterCounts.StoreCalls(app);
            var outage = Stopwatch.StartNew();
            redis.Kill();
            var during = await Traffic(app, TimeSpan.FromSeconds(1));
            var asked = calls.Total;
            output.WriteLine($"after the kill: {during.Count} requests in {outage.Elapsed.TotalMilliseconds:F0} ms, {asked} store calls, slowest {during.Max(r => r.Milliseconds):F1} ms");

            Assert.All(during, r =>
            {
                Assert.Equal(503, r.Status);
                Assert.True(r.RetryAfter is >= 1, "A 503 without Retry-After.");
            });
            Assert.InRange(asked, 1, MostCallsWhileDown(outage.Elapsed));
            Assert.True(during.Count > asked, $"All {during.Count} requests called Redis: the circuit never answered one.");

            redis.Dispose();
            redis = RedisServer.Start(port);
            await TimeUntilRedisDecides(app);
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
        output.WriteLine($"started in {clock.Elapsed.TotalMilliseconds:F0} ms with Redis down");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"Starting took {clock.Elapsed} with Redis down.");

        var down = await Traffic(app, TimeSpan.FromMilliseconds(300));
        // Failure mode Open, the default: the instance enforces its share of the limit, and having heard no heartbeat it
        // counts itself alone, so its share is the whole limit.
        Assert.All(down, r => Assert.True(r.Status is 200 or 429 && r.Limited, $"{r.Status}, with the bucket's state: {r.Limited}"));
        Assert.InRange(down.Count(r => r.Status == 200), 1, 5 + clock.Elapsed.TotalSeconds);
        using var unhealthy = await app.Client.GetAsync("/health");
        Assert.Equal("Degraded", await unhealthy.Content.ReadAsStringAsync());

        using var redis = RedisServer.Start(port);
        var resumed = await TimeUntilRedisDecides(app);
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

    private static async Task UntilRejected(ResilienceApp app)
    {
        for (var i = 0; i < 100; i++)
        {
            using var response = await app.Client.GetAsync("/limited");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                return;
            }
        }
        Assert.Fail("100 requests in a row were admitted by a bucket of capacity 5 that refills once a second.");
    }

    // Limiting by Redis is back when the limiter's meter counts a store call that succeeded. How soon depends on the
    // client's reconnect and the machine: the limit only keeps a test that never recovers from hanging.
    private static async Task<TimeSpan> TimeUntilRedisDecides(ResilienceApp app)
    {
        using var calls = MeterCounts.StoreCalls(app);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            using var response = await app.Client.GetAsync("/limited");
            if (calls["success"] > 0)
            {
                return clock.Elapsed;
            }
            await Task.Delay(10);
        }
        throw new TimeoutException("Limiting did not resume.");
    }
}
