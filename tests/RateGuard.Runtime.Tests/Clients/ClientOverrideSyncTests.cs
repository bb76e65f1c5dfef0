using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using RateGuard.Diagnostics;
using RateGuard.Operations;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Runtime.Tests.Resilience;
using RateGuard.Stores;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Clients;

/// <summary>
/// How every instance comes to apply the same overrides: one hash in Redis with a version, polled by each instance and
/// read at startup, and the overrides known last kept while Redis is away. They measure how soon, so they run alone.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class ClientOverrideSyncTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private const string Bucket = "GET /reports";
    private static readonly TokenBucketPolicy s_policy = new(Bucket, capacity: 2, rate: 0.001);

    private readonly string _prefix = "cs" + Guid.NewGuid().ToString("N")[..8];

    private async Task<LimiterHarness> StartAsync(string? configuration = null)
    {
        var harness = new LimiterHarness(o =>
        {
            o.Redis = configuration ?? redis.Server.Configuration;
            o.KeyPrefix = _prefix;
        });
        await harness.ConnectedAsync();
        harness.Configured(s_policy);
        return harness;
    }

    [Fact]
    public async Task Overrides_are_one_hash_under_the_key_prefix_with_a_version_that_each_change_moves_on()
    {
        using var harness = await StartAsync();
        var hash = _prefix + ":overrides";

        await harness.Operations.SetOverrideAsync(Bucket, "alice", 50, 2.5, TimeSpan.FromHours(1));
        var first = (long)redis.Database.HashGet(hash, "version");
        await harness.Operations.SetOverrideAsync(Bucket, "bob", 50, 5, TimeSpan.FromHours(1));
        var second = (long)redis.Database.HashGet(hash, "version");
        await harness.Operations.RemoveOverrideAsync(Bucket, "bob");
        var third = (long)redis.Database.HashGet(hash, "version");
        await harness.Operations.RemoveOverrideAsync(Bucket, "bob");
        var unchanged = (long)redis.Database.HashGet(hash, "version");

        var fields = redis.Database.HashGetAll(hash).ToDictionary(f => (string)f.Name!, f => (string)f.Value!);
        var expiresAt = (await harness.Operations.GetOverridesAsync()).Single().ExpiresAt.ToUnixTimeMilliseconds();
        Assert.Equal(["GET /reports:alice", "next", "version"], fields.Keys.Order(StringComparer.Ordinal));
        Assert.Equal($"{expiresAt} 50 2.5", fields["GET /reports:alice"]);
        Assert.Equal($"{expiresAt}", fields["next"]);
        Assert.True(first < second && second < third && third == unchanged, $"versions {first}, {second}, {third}, {unchanged}");
        // Nothing else under the prefix but the instances' heartbeat.
        Assert.Equal([hash], redis.Admin.Keys(pattern: _prefix + ":*").Select(k => (string)k!).Where(k => k != _prefix + ":instances"));
    }

    [Fact]
    public async Task An_override_set_on_one_instance_applies_on_another_within_a_second_and_so_does_its_removal()
    {
        using var first = await StartAsync();
        using var second = await StartAsync();
        // As instances that have run a while: a change soon after a load waits for the next poll (the burst guard).
        await Task.Delay(RateGuard.Clients.ClientOverrideSync.Interval * 2);

        await first.Operations.SetOverrideAsync(Bucket, "alice", 50, 5, TimeSpan.FromHours(1));
        var set = await TimeUntilAsync(() => second.ClientOverrides.TryGet(s_policy, "alice", out var applied) && applied.Capacity == 50);
        await Task.Delay(RateGuard.Clients.ClientOverrideSync.Interval * 2);
        await first.Operations.RemoveOverrideAsync(Bucket, "alice");
        var removed = await TimeUntilAsync(() => !second.ClientOverrides.TryGet(s_policy, "alice", out _));

        output.WriteLine($"set on the first instance, applied on the second after {set.TotalMilliseconds:F0} ms; removed after {removed.TotalMilliseconds:F0} ms");
        Assert.True(set < TimeSpan.FromSeconds(1), $"applied on the second instance after {set.TotalMilliseconds:F0} ms");
        Assert.True(removed < TimeSpan.FromSeconds(1), $"removed on the second instance after {removed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task Without_the_channel_an_override_still_applies_on_another_instance_within_a_second_through_its_poll()
    {
        using var server = RedisServer.Start();
        // Every command and the instance's keys, but not the overrides channel: no instance hears of a change.
        server.Command("ACL", "SETUSER", "poller", "on", ">secret", "resetkeys", $"~{_prefix}:*", "resetchannels", $"&{_prefix}:resets", "+@all");
        var configuration = $"127.0.0.1:{server.Port},user=poller,password=secret";
        using var first = await StartAsync(configuration);
        using var second = await StartAsync(configuration);

        await first.Operations.SetOverrideAsync(Bucket, "alice", 50, 5, TimeSpan.FromHours(1));
        var set = await TimeUntilAsync(() => second.ClientOverrides.TryGet(s_policy, "alice", out _));

        output.WriteLine($"by polling alone, applied on the second instance after {set.TotalMilliseconds:F0} ms");
        Assert.True(set < TimeSpan.FromSeconds(1), $"applied on the second instance after {set.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task An_instance_that_starts_later_reads_the_overrides_at_once()
    {
        using var first = await StartAsync();
        await first.Operations.SetOverrideAsync(Bucket, "alice", 50, 5, TimeSpan.FromHours(1));

        using var later = await StartAsync();

        await Eventually.Until(() => later.ClientOverrides.TryGet(s_policy, "alice", out _), "the later instance applies the override", seconds: 1);
    }

    [Fact]
    public async Task While_redis_is_away_the_overrides_known_last_stay_in_force_and_the_failure_is_logged_once()
    {
        var port = RedisServer.FreePort();
        var server = RedisServer.Start(port);
        try
        {
            using var harness = await StartAsync($"127.0.0.1:{port}");
            await harness.Operations.SetOverrideAsync(Bucket, "alice", 50, 5, TimeSpan.FromHours(1));

            server.Kill();
            // Long enough for the failure to be logged, and for a few polls more after it.
            await Eventually.Until(() => harness.Logs.GetSnapshot().Any(l => l.Id.Name == "ClientOverridesUnavailable"), "the failure is logged", seconds: 10);
            await Task.Delay(RateGuard.Clients.ClientOverrideSync.Interval * 4);

            Assert.True(harness.ClientOverrides.TryGet(s_policy, "alice", out var applied));
            Assert.Equal(50, applied.Capacity);
            var warning = Assert.Single(harness.Logs.GetSnapshot(), l => l.Id.Name == "ClientOverridesUnavailable");
            Assert.Equal(LogLevel.Warning, warning.Level);
            Assert.Contains("the 1 known last stay in force", warning.Message);
            await Assert.ThrowsAsync<TokenBucketStoreUnavailableException>(async () => await harness.Operations.GetOverridesAsync());
            await Assert.ThrowsAsync<TokenBucketStoreUnavailableException>(async () => await harness.Operations.SetOverrideAsync(Bucket, "bob", 50, 5, TimeSpan.FromHours(1)));

            // Redis back, but without its data (no persistence here): the store is what every instance follows.
            server.Dispose();
            server = RedisServer.Start(port);
            await Eventually.Until(() => harness.Logs.GetSnapshot().Any(l => l.Id.Name == "ClientOverridesRestored"), "the recovery is logged");
            Assert.Equal(0, harness.ClientOverrides.Count);
            Assert.Single(harness.Logs.GetSnapshot(), l => l.Id.Name == "ClientOverridesUnavailable");
        }
        finally
        {
            server.Dispose();
        }
    }

    [Fact]
    public async Task The_overrides_gauge_counts_the_overrides_this_instance_applies()
    {
        using var harness = await StartAsync();
        using var gauge = new MetricCollector<int>(harness.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), TokenBucketMetrics.MeterName, TokenBucketMetrics.OverridesInstrument);

        await harness.Operations.SetOverrideAsync(Bucket, "alice", 50, 5, TimeSpan.FromHours(1));
        await harness.Operations.SetOverrideAsync(Bucket, "bob", 50, 5, TimeSpan.FromHours(1));
        gauge.RecordObservableInstruments();

        Assert.Equal(2, gauge.LastMeasurement?.Value);
        Assert.Equal("{override}", gauge.Instrument?.Unit);
    }

    [Fact]
    public async Task A_store_of_the_app_s_own_keeps_overrides_in_this_process()
    {
        using var harness = new LimiterHarness(new OwnStore());
        harness.Configured(s_policy);

        await harness.Operations.SetOverrideAsync(Bucket, "alice", 50, 5, TimeSpan.FromHours(1));

        Assert.Equal(["alice"], (await harness.Operations.GetOverridesAsync()).Select(o => o.Key));
        Assert.True(harness.ClientOverrides.TryGet(s_policy, "alice", out _));
        Assert.IsType<RateGuard.Clients.LocalClientOverrideStore>(harness.Limiter.Overrides.Store);
    }

    private static async Task<TimeSpan> TimeUntilAsync(Func<bool> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "not within 10 s");
            await Task.Delay(5);
        }
        return waited.Elapsed;
    }

    private sealed class OwnStore : ITokenBucketStore
    {
        public ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default) =>
            new(new RateLimitDecision(true, 0, TimeSpan.Zero, TimeSpan.Zero));
    }
}
