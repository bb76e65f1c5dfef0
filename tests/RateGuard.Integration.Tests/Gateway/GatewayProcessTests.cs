using System.Diagnostics;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>
/// The YARP gateway sample run as real processes over a real redis-server: route limits from route metadata shared
/// between gateway instances, each route's failure mode when Redis dies under load, a route charged the tokens its
/// backend reports, and a reload of the routes' limits.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
[Collection(TimingCollection.Name)]
public sealed class GatewayProcessTests(GatewayProcessBuild build) : IClassFixture<GatewayProcessBuild>
{
    [Fact]
    public async Task Two_gateways_over_one_redis_share_each_routes_limit_exactly()
    {
        using var redis = RedisServer.Start(PortRange.GatewayProcesses.Next());
        string[] arguments =
        [
            $"--TokenBuckets:Redis={redis.Configuration}",
            "--TokenBuckets:KeyPrefix=g" + Guid.NewGuid().ToString("N")[..8],
            "--TokenBuckets:Timeout=00:00:05",
            // The capacities come from the routes' metadata (10 for api in Spring's words, 3 for reports in
            // RateGuard's); the refills are slowed so that this test is about sharing the buckets, not their rates.
            "--ReverseProxy:Routes:api:Metadata:redis-rate-limiter.replenishRate=0.01",
            "--ReverseProxy:Routes:reports:Metadata:TokenBucket.Rate=0.01",
        ];
        await using var first = await GatewayProcess.StartAsync(build.Assembly, arguments);
        await using var second = await GatewayProcess.StartAsync(build.Assembly, arguments);

        var api = new List<int>();
        var reports = new List<int>();
        var otherKey = new List<int>();
        for (var i = 0; i < 12; i++)
        {
            var gateway = i % 2 == 0 ? first : second;
            using var apiResponse = await gateway.GetAsync($"/api/items/{i}");
            api.Add((int)apiResponse.StatusCode);
            using var reportsResponse = await gateway.GetAsync("/reports/daily", apiKey: "client-a");
            reports.Add((int)reportsResponse.StatusCode);
        }
        for (var i = 0; i < 4; i++)
        {
            using var response = await (i % 2 == 0 ? second : first).GetAsync("/reports/daily", apiKey: "client-b");
            otherKey.Add((int)response.StatusCode);
        }

        // Ten between them, not ten each; three per API key between them.
        Assert.Equal([.. Enumerable.Repeat(200, 10), 429, 429], api);
        Assert.Equal([200, 200, 200, .. Enumerable.Repeat(429, 9)], reports);
        Assert.Equal([200, 200, 200, 429], otherKey);
        // The backend answered what was admitted, and the gateway did not run on its per-process fallback.
        using var proxied = await first.GetAsync("/open/hello");
        Assert.Equal("backend: /open/hello", await proxied.Content.ReadAsStringAsync());
        Assert.DoesNotContain("applies per process", first.Output);
        Assert.DoesNotContain("applies per process", second.Output);
    }

    [Fact]
    public async Task Redis_killed_under_load_the_open_route_keeps_admitting_and_the_closed_route_answers_503_with_retry_after()
    {
        using var redis = RedisServer.Start(PortRange.GatewayProcesses.Next());
        await using var gateway = await GatewayProcess.StartAsync(build.Assembly,
            $"--TokenBuckets:Redis={redis.Configuration}",
            "--TokenBuckets:KeyPrefix=k" + Guid.NewGuid().ToString("N")[..8],
            // Limits large enough that the load is never rejected: what is checked is the failure mode.
            "--TokenBuckets:Buckets:api:Capacity=1000000",
            "--TokenBuckets:Buckets:api:Rate=1000000",
            "--TokenBuckets:Buckets:reports:Capacity=1000000",
            "--TokenBuckets:Buckets:reports:Rate=1000000",
            "--TokenBuckets:Buckets:reports:FailureMode=Closed");

        var before = await LoadAsync(gateway, TimeSpan.FromSeconds(1));
        var redisProcess = System.Diagnostics.Process.GetProcessById(redis.ProcessId);
        redisProcess.Kill();
        Assert.True(redisProcess.WaitForExit(10_000), "redis-server did not exit");
        var after = await LoadAsync(gateway, TimeSpan.FromSeconds(3));

        // While Redis answered, every request was decided by it.
        Assert.NotEmpty(before);
        Assert.All(before, r => Assert.Equal((200, true, false), (r.Status, r.RateLimitHeader, r.RetryAfter)));
        // After: api (Open, the default) is decided by this instance alone, at its share of the limit (all of it, for one
        // instance), so it admits with that share's RateLimit header; reports (Closed) answers each with the limiter's
        // 503, a problem body and Retry-After. Nothing else, no other 5xx.
        var api = after.Where(r => r.Route == "api").ToArray();
        var reports = after.Where(r => r.Route == "reports").ToArray();
        Assert.True(api.Length >= 10, $"only {api.Length} api requests in 3 s");
        Assert.True(reports.Length >= 10, $"only {reports.Length} reports requests in 3 s");
        Assert.All(api, r => Assert.Equal((200, true, false, "backend: /api/load"), (r.Status, r.RateLimitHeader, r.RetryAfter, r.Body)));
        Assert.All(reports, r => Assert.Equal((503, false, true, "application/problem+json"), (r.Status, r.RateLimitHeader, r.RetryAfter, r.ContentType)));
        // The gateway keeps serving.
        Assert.False(gateway.HasExited);
        using var open = await gateway.GetAsync("/open/still-there");
        Assert.Equal(200, (int)open.StatusCode);
    }

    [Fact]
    public async Task The_completions_route_charges_each_request_the_tokens_its_backend_reports_and_leaves_the_header_to_the_client()
    {
        // In memory, where a charge is applied before the response is sent: the next request sees it.
        await using var gateway = await GatewayProcess.StartAsync(build.Assembly);
        var apiKey = "llm-" + Guid.NewGuid().ToString("N");

        using var first = await gateway.GetAsync("/completions/chat?tokens=4000", apiKey);
        using var second = await gateway.GetAsync("/completions/chat?tokens=10", apiKey);

        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal("4000", Assert.Single(first.Headers.GetValues("X-Tokens-Used")));
        // 1000 - 4000: 3000 tokens in debt, and one more to hold: about 300 seconds at 10 a second.
        Assert.Equal(429, (int)second.StatusCode);
        Assert.InRange(second.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 290, 301);
    }

    [Fact]
    public async Task A_reload_with_an_invalid_route_limit_is_logged_and_refused_whole_and_a_valid_reload_applies()
    {
        // A copy of the built gateway whose appsettings.json the test rewrites while it runs.
        var directory = Directory.CreateTempSubdirectory("rateguard-gateway-reload-").FullName;
        try
        {
            foreach (var file in Directory.EnumerateFiles(Path.GetDirectoryName(build.Assembly)!, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(directory, Path.GetRelativePath(Path.GetDirectoryName(build.Assembly)!, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
            var settings = Path.Combine(directory, "appsettings.json");
            var original = await File.ReadAllTextAsync(settings);
            await using var gateway = await GatewayProcess.StartAsync(Path.Combine(directory, "Gateway.dll"));
            Assert.Equal("\"api\";q=10;w=2", await PolicyAsync(gateway, "/api/x"));
            Assert.Equal("\"reports\";q=3;w=6", await PolicyAsync(gateway, "/reports/x"));

            // One bad value (a capacity below 1) next to a good change (the api route's burst doubled).
            await ReplaceAsync(settings, original
                .Replace("\"TokenBucket.Capacity\": \"3\"", "\"TokenBucket.Capacity\": \"-1\"")
                .Replace("\"redis-rate-limiter.burstCapacity\": \"10\"", "\"redis-rate-limiter.burstCapacity\": \"20\""));
            await Poll(() => gateway.Output.Contains("Route 'reports': metadata 'TokenBucket.Capacity' = '-1' is invalid"), gateway);

            // Refused whole: neither route changed, and the gateway kept serving.
            Assert.Equal("\"api\";q=10;w=2", await PolicyAsync(gateway, "/api/x"));
            Assert.Equal("\"reports\";q=3;w=6", await PolicyAsync(gateway, "/reports/x"));
            Assert.False(gateway.HasExited);

            await ReplaceAsync(settings, original.Replace("\"TokenBucket.Capacity\": \"3\"", "\"TokenBucket.Capacity\": \"5\""));
            var reports = "";
            await Poll(async () => (reports = await PolicyAsync(gateway, "/reports/x")) == "\"reports\";q=5;w=10", gateway);
            Assert.Equal("\"reports\";q=5;w=10", reports);
            Assert.Equal("\"api\";q=10;w=2", await PolicyAsync(gateway, "/api/x"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<string> PolicyAsync(GatewayProcess gateway, string path)
    {
        using var response = await gateway.GetAsync(path, apiKey: "reload-" + Guid.NewGuid().ToString("N"));
        Assert.Equal(200, (int)response.StatusCode);
        return string.Join(",", response.Headers.GetValues("RateLimit-Policy"));
    }

    /// <summary>Replaces the file in one rename, as editors and deployment tools do, so it is never read half written.</summary>
    private static async Task ReplaceAsync(string path, string content)
    {
        var temporary = path + ".new";
        await File.WriteAllTextAsync(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }

    private static Task Poll(Func<bool> condition, GatewayProcess gateway) => Poll(() => Task.FromResult(condition()), gateway);

    private static async Task Poll(Func<Task<bool>> condition, GatewayProcess gateway)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not within 30 s. Gateway output:\n{gateway.Output}");
            await Task.Delay(100);
        }
    }

    private sealed record Result(string Route, int Status, bool RateLimitHeader, bool RetryAfter, string? ContentType, string Body);

    /// <summary>Requests, one at a time and alternating between the two limited routes, for <paramref name="duration"/>.</summary>
    private static async Task<List<Result>> LoadAsync(GatewayProcess gateway, TimeSpan duration)
    {
        var results = new List<Result>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; clock.Elapsed < duration; i++)
        {
            var route = i % 2 == 0 ? "api" : "reports";
            using var response = await gateway.GetAsync($"/{route}/load", apiKey: "load");
            results.Add(new Result(route, (int)response.StatusCode, response.Headers.Contains("RateLimit"), response.Headers.RetryAfter is not null,
                response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync()));
        }
        return results;
    }
}
