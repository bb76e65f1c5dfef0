using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Clients;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// Two instances of one app over one Redis: an override an operator sets through the first instance's admin API is
/// enforced by the second within a second, and by the second again once it has restarted.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class OverridesAcrossInstancesTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    // The endpoint's own limit: two requests, then one token every 1,000 s.
    private static readonly TokenBucketPolicy s_declared = new("GET /reports", capacity: 2, rate: 0.001);

    private readonly string _prefix = "ov" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task An_override_set_on_one_instance_is_enforced_on_another_within_a_second_and_after_that_one_restarts()
    {
        await using var first = await StartAsync();
        var second = await StartAsync();
        try
        {
            // As instances that have run a while, not one that has just read the overrides at startup.
            await Task.Delay(ClientOverrideSync.Interval * 2);

            await SetAsync(first, "bob", capacity: 5);
            var propagation = await TimeUntilAppliedAsync(second, "bob");

            // Bob gets his override's five requests on the second instance; alice, without one, the limit's two.
            var bob = await StatusesAsync(second, "bob", 6);
            var alice = await StatusesAsync(second, "alice", 3);
            Assert.Equal([200, 200, 200, 200, 200, 429], bob);
            Assert.Equal([200, 200, 429], alice);

            await SetAsync(first, "carol", capacity: 4);
            await second.DisposeAsync();
            var restart = Stopwatch.StartNew();
            second = await StartAsync();
            var started = restart.Elapsed;
            // Read from Redis as it started, before its first request.
            Assert.True(second.App.Services.GetRequiredService<ClientOverrides>().TryGet(s_declared, "carol", out _), "the restarted instance has not read the overrides");

            // Carol gets her four, bob is still held to his five.
            var carol = await StatusesAsync(second, "carol", 5);
            var bobAgain = await StatusesAsync(second, "bob", 1);
            Assert.Equal([200, 200, 200, 200, 429], carol);
            Assert.Equal([429], bobAgain);
            output.WriteLine($"enforced on the second instance {propagation.TotalMilliseconds:F0} ms after PUT returned on the first; " +
                $"restarted in {started.TotalMilliseconds:F0} ms with the overrides read");
            Assert.True(propagation < TimeSpan.FromSeconds(1), $"applied on the second instance after {propagation.TotalMilliseconds:F0} ms");
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    private static async Task SetAsync(AdminApp app, string key, int capacity)
    {
        using var put = await app.AdminAsync(HttpMethod.Put, "overrides",
            $$"""{"bucket": "GET /reports", "key": "{{key}}", "capacity": {{capacity}}, "rate": 0.001, "expiresAfterSeconds": 3600}""");
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
    }

    // How long until the instance decides the client's requests by an override rather than by the endpoint's limit.
    private static async Task<TimeSpan> TimeUntilAppliedAsync(AdminApp app, string key)
    {
        var overrides = app.App.Services.GetRequiredService<ClientOverrides>();
        var waited = Stopwatch.StartNew();
        while (!overrides.TryGet(s_declared, key, out _))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), $"the instance never applied the override of {key}");
            await Task.Delay(5);
        }
        return waited.Elapsed;
    }

    private static async Task<int[]> StatusesAsync(AdminApp app, string key, int count)
    {
        var statuses = new int[count];
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/reports");
            request.Headers.Add(AdminApp.ClientHeader, key);
            using var response = await app.Client.SendAsync(request);
            statuses[i] = (int)response.StatusCode;
        }
        return statuses;
    }

    private Task<AdminApp> StartAsync() => AdminApp.StartAsync(
        services => services.Configure<TokenBucketOptions>(o =>
        {
            o.Redis = redis.Server.Configuration;
            o.KeyPrefix = _prefix;
            // About overrides, not failures: a loaded machine must not turn a decision into its failure mode.
            o.Timeout = TimeSpan.FromSeconds(5);
        }),
        itemsEndpoint: false,
        map: app => app.MapGet("/reports", [TokenBucket(capacity: 2, rate: 0.001, Key = "header:" + AdminApp.ClientHeader)] () => "report"));
}
