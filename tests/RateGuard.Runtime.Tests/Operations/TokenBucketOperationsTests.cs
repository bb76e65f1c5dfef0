using Microsoft.Extensions.DependencyInjection;
using RateGuard.Configuration;
using RateGuard.Limiting;
using RateGuard.Operations;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Runtime.Tests.Resilience;
using RateGuard.Stores;
using RateGuard.TestSupport;

namespace RateGuard.Runtime.Tests.Operations;

/// <summary>Inspect, reset, top rejected clients and bucket activity, over Redis and in memory.</summary>
public sealed class TokenBucketOperationsTests : IDisposable
{
    private readonly RedisFixture _redis = new();

    public void Dispose() => _redis.Dispose();

    private LimiterHarness Redis() => new(o => o.Redis = _redis.Server.Configuration);

    private static LimiterHarness Memory() => new(_ => { });

    // Operations find buckets among those the app uses; the harness decides directly, so it declares them first.
    private static TokenBucketPolicy Use(LimiterHarness harness, TokenBucketPolicy policy)
    {
        harness.Configured(policy);
        return policy;
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("memory")]
    public async Task Inspect_reads_the_bucket_without_taking_a_token_and_agrees_with_the_next_decision(string store)
    {
        using var harness = store == "redis" ? Redis() : Memory();
        if (store == "redis")
        {
            await harness.ConnectedAsync();
        }
        var policy = Use(harness, new TokenBucketPolicy("inspected", capacity: 10, rate: 0.01));
        var fresh = await harness.Operations.InspectAsync("inspected", "alice");
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await harness.Acquire(policy, "alice")).IsAdmitted);
        }

        var state = await harness.Operations.InspectAsync("inspected", "alice");
        var again = await harness.Operations.InspectAsync("inspected", "alice");
        var next = await harness.Acquire(policy, "alice");

        Assert.Equal(new TokenBucketState("inspected", "alice", 10, 10, 0.01, TimeSpan.Zero), fresh);
        Assert.Equal(7, state.Tokens);
        Assert.Equal(7, again.Tokens); // inspecting took nothing
        Assert.Equal((10, 0.01), (state.Capacity, state.Rate));
        // Three tokens short of full at one token per 100 s: just under 300 s, as time has passed since.
        Assert.InRange(state.TimeToFull, TimeSpan.FromSeconds(290), TimeSpan.FromSeconds(300));
        Assert.True(next.IsAdmitted);
        Assert.Equal(state.Tokens - 1, next.Decision.Remaining);
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("memory")]
    public async Task Reset_fills_the_bucket_again_and_forgets_the_remembered_rejection(string store)
    {
        using var harness = store == "redis" ? Redis() : Memory();
        if (store == "redis")
        {
            await harness.ConnectedAsync();
        }
        var policy = Use(harness, new TokenBucketPolicy("reset", capacity: 1, rate: 1 / 60d));
        Assert.True((await harness.Acquire(policy, "mallory")).IsAdmitted);
        var rejected = await harness.Acquire(policy, "mallory");
        Assert.False(rejected.IsAdmitted);
        Assert.InRange(rejected.Decision.RetryAfter, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(60));

        await harness.Operations.ResetAsync("reset", "mallory");
        var state = await harness.Operations.InspectAsync("reset", "mallory");
        var next = await harness.Acquire(policy, "mallory");

        Assert.Equal((1L, TimeSpan.Zero), (state.Tokens, state.TimeToFull));
        Assert.True(next.IsAdmitted, $"after the reset: {next}");
        Assert.Equal(DecisionSource.Store, next.Source);
    }

    [Fact]
    public async Task A_reset_on_one_instance_clears_the_deny_cache_of_another_through_redis()
    {
        using var a = Redis();
        using var b = Redis();
        await a.ConnectedAsync();
        await b.ConnectedAsync();
        var policy = Use(a, new TokenBucketPolicy("shared-reset", capacity: 1, rate: 1 / 60d));
        Use(b, policy);
        Assert.True((await a.Acquire(policy, "mallory")).IsAdmitted);
        Assert.False((await b.Acquire(policy, "mallory")).IsAdmitted);
        // B now rejects mallory from memory, without asking Redis, for up to a second at a time.
        Assert.Equal(DecisionSource.DenyCache, (await b.Acquire(policy, "mallory")).Source);

        await a.Operations.ResetAsync("shared-reset", "mallory");

        // B heard of the reset: its remembered rejection is gone, and Redis decides again, against a full bucket. The
        // wait is generous for a busy machine; the cross-process test measures how long delivery takes.
        await Eventually.Until(() => b.Logs.GetSnapshot().Any(l => l.Id.Name == "ResetHeard"), "instance B hears of the reset", seconds: 10);
        var next = await b.Acquire(policy, "mallory");
        Assert.True(next.IsAdmitted, $"B after the reset on A: {next}");
        Assert.Equal(DecisionSource.Store, next.Source);
    }

    [Fact]
    public async Task Top_rejected_lists_the_most_rejected_clients_first_with_long_values_by_their_hash()
    {
        using var harness = Memory();
        var policy = Use(harness, new TokenBucketPolicy("top", capacity: 1, rate: 0.001));
        var longValue = new string('x', RejectedClient.MaxTrackedKeyLength + 1);
        foreach (var (key, rejections) in new[] { ("eve", 2), ("mallory", 5), ("<script>alert(1)</script>", 1), (longValue, 3) })
        {
            for (var i = 0; i <= rejections; i++)
            {
                await harness.Acquire(policy, key); // the first is admitted
            }
        }

        var top = harness.Operations.GetTopRejected("top", count: 3);
        var all = harness.Operations.GetTopRejected("top");

        Assert.Equal(["mallory", BucketKey.Normalize(longValue), "eve"], top.Select(c => c.Key));
        Assert.Equal([5L, 3L, 2L], top.Select(c => c.Rejections));
        Assert.All(all, c => Assert.Equal(0, c.Uncertain)); // four clients: the table never had to let one go
        Assert.Equal([false, true, false], top.Select(c => c.IsHashed));
        Assert.Equal(4, all.Count);
        Assert.Equal("<script>alert(1)</script>", all[3].Key);
        Assert.All(all, c => Assert.InRange(c.LastRejected, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1)));
    }

    [Fact]
    public async Task Buckets_are_listed_by_name_with_their_configured_shape_and_recent_activity()
    {
        using var harness = new LimiterHarness(o => o.Buckets["zeta"] = new TokenBucketOverride { Capacity = 2 });
        var zeta = Use(harness, new TokenBucketPolicy("zeta", capacity: 50, rate: 0.5));
        Use(harness, new TokenBucketPolicy("alpha", capacity: 10, rate: 2, cost: 3));
        var configured = harness.Configured(zeta).Policy; // as a request gets it
        for (var i = 0; i < 5; i++)
        {
            await harness.Acquire(configured, "k");
        }

        var buckets = harness.Operations.GetBuckets();

        Assert.Equal(["alpha", "zeta"], buckets.Select(b => b.Name));
        Assert.Equal((10, 2d, 3, FailureMode.Open), (buckets[0].Capacity, buckets[0].Rate, buckets[0].Cost, buckets[0].FailureMode));
        Assert.Equal(new TokenBucketActivity(0, 0), buckets[0].Activity);
        Assert.Equal((2, 0.5, 1), (buckets[1].Capacity, buckets[1].Rate, buckets[1].Cost)); // the override's capacity
        Assert.Equal(new TokenBucketActivity(2, 3), buckets[1].Activity);
        Assert.Equal(3 / TokenBucketActivity.Window.TotalSeconds, buckets[1].Activity.RejectedPerSecond);
        Assert.Equal([new StoreServerState("memory", CircuitState.Closed)], harness.Operations.GetServers());
    }

    [Fact]
    public async Task An_unknown_bucket_is_refused_with_the_closest_name_or_the_list_of_names()
    {
        using var harness = Memory();
        Use(harness, new TokenBucketPolicy("GET /items/{id}", 10, 1));
        Use(harness, new TokenBucketPolicy("exports", 10, 1));

        var typo = await Assert.ThrowsAsync<UnknownTokenBucketException>(async () => await harness.Operations.InspectAsync("GET /item/{id}", "k"));
        var unrelated = await Assert.ThrowsAsync<UnknownTokenBucketException>(async () => await harness.Operations.ResetAsync("billing", "k"));
        var top = Assert.Throws<UnknownTokenBucketException>(() => harness.Operations.GetTopRejected("Exports"));

        Assert.Equal("There is no bucket 'GET /item/{id}'. Did you mean 'GET /items/{id}'? Bucket names are case-sensitive, as rate-limit headers give them.", typo.Message);
        Assert.Equal("There is no bucket 'billing'. The buckets are: 'exports', 'GET /items/{id}'.", unrelated.Message);
        Assert.Equal("GET /item/{id}", typo.Bucket);
        Assert.Contains("Did you mean 'exports'?", top.Message);
    }

    [Fact]
    public async Task A_store_that_cannot_be_reached_is_reported_as_unavailable_not_as_a_raw_client_error()
    {
        using var harness = new LimiterHarness(o => o.Redis = $"127.0.0.1:{RedisServer.FreePort()},abortConnect=false,connectTimeout=200");
        Use(harness, new TokenBucketPolicy("away", 10, 1));

        var inspect = await Assert.ThrowsAsync<TokenBucketStoreUnavailableException>(async () => await harness.Operations.InspectAsync("away", "k"));
        var reset = await Assert.ThrowsAsync<TokenBucketStoreUnavailableException>(async () => await harness.Operations.ResetAsync("away", "k"));

        Assert.StartsWith("Bucket 'away' could not be read from the store: ", inspect.Message);
        Assert.StartsWith("Bucket 'away' could not be reset in the store: ", reset.Message);
    }

    [Fact]
    public async Task A_store_of_the_app_s_own_says_it_cannot_be_inspected_or_reset()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<ITokenBucketStore>(new CountingStore());
        services.AddTokenBuckets();
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<ConfiguredPolicies>().Of(new TokenBucketPolicy("custom", 10, 1));
        var operations = provider.GetRequiredService<ITokenBucketOperations>();

        var inspect = await Assert.ThrowsAsync<NotSupportedException>(async () => await operations.InspectAsync("custom", "k"));
        var reset = await Assert.ThrowsAsync<NotSupportedException>(async () => await operations.ResetAsync("custom", "k"));

        Assert.Contains("cannot be read without taking tokens", inspect.Message);
        Assert.Contains("has no way to remove a bucket", reset.Message);
    }

    private sealed class CountingStore : ITokenBucketStore
    {
        public ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default) =>
            new(new RateLimitDecision(true, 0, TimeSpan.Zero, TimeSpan.Zero));
    }
}
