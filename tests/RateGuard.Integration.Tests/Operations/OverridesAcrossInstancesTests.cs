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
/// applied by the second within a second, and by the second again once it has restarted.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class OverridesAcrossInstancesTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private const string Bucket = "GET /reports";

    // The endpoint's own limit: two requests, then one token every 1,000 s.
    private static readonly TokenBucketPolicy s_declared = new(Bucket, capacity: 2, rate: 0.001);

    private readonly string _prefix = "ov" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task An_override_set_on_one_instance_applies_on_another_within_a_second_and_after_that_one_restarts()
    {
        await using var first = await StartAsync();
        var second = await StartAsync();
        try
        {
            // As instances that have run a while, not one that has just read the overrides at startup.
            await Task.Delay(ClientOverrideSync.Interval * 2);
            using var put = await first.AdminAsync(HttpMethod.Put, "overrides",
                """{"bucket": "GET /reports", "key": "bob", "capacity": 5, "rate": 0.001, "expiresAfterSeconds": 3600}""");
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
            var waited = Stopwatch.StartNew();
            while (!Applies(second))
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "the second instance never applied the override");
                await Task.Delay(5);
            }
            var propagation = waited.Elapsed;

            await second.DisposeAsync();
            var restarted = Stopwatch.StartNew();
            second = await StartAsync();
            while (!Applies(second))
            {
                Assert.True(restarted.Elapsed < TimeSpan.FromSeconds(10), "the restarted instance never applied the override");
                await Task.Delay(5);
            }

            output.WriteLine($"applied on the second instance {propagation.TotalMilliseconds:F0} ms after PUT returned on the first; after its restart, {restarted.Elapsed.TotalMilliseconds:F0} ms after it began to start");
            Assert.True(propagation < TimeSpan.FromSeconds(1), $"applied on the second instance after {propagation.TotalMilliseconds:F0} ms");
            Assert.False(second.App.Services.GetRequiredService<ClientOverrides>().TryGet(s_declared, "alice", out _));
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    // Whether the instance decides bob's requests with the override's capacity rather than the endpoint's.
    private static bool Applies(AdminApp app) =>
        app.App.Services.GetRequiredService<ClientOverrides>().TryGet(s_declared, "bob", out var policy) && policy.Capacity == 5;

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
