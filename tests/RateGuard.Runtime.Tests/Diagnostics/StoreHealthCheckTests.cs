using Microsoft.Extensions.Diagnostics.HealthChecks;
using RateGuard.Operations;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Runtime.Tests.Resilience;
using RateGuard.Stores;
using RateGuard.TestSupport;
using StackExchange.Redis;

namespace RateGuard.Runtime.Tests.Diagnostics;

/// <summary>The token-bucket health check reports each kind of store from what the store says of itself.</summary>
public sealed class StoreHealthCheckTests
{
    [Fact]
    public async Task The_in_memory_store_is_healthy_and_says_how_many_buckets_it_holds_and_that_limits_are_per_process()
    {
        using var harness = new LimiterHarness(_ => { });
        await harness.Acquire(TestPolicies.Create(5, 1), "k");

        var health = await harness.CheckHealthAsync();

        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal("In-memory token buckets (1 held); limits apply per process.", health.Description);
    }

    [Fact]
    public async Task A_store_of_the_app_s_own_is_healthy_and_named_by_its_type_while_its_circuit_is_closed()
    {
        using var harness = new LimiterHarness(new PlainStore());

        var health = await harness.CheckHealthAsync();

        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal("Token buckets in PlainStore.", health.Description);
    }

    [Fact]
    public async Task A_remote_store_whose_circuit_is_open_is_degraded_without_being_asked()
    {
        var store = new CheckedStore { Fault = new InvalidOperationException("down") };
        using var harness = new LimiterHarness(store, o => o.BreakerFailureThreshold = 1);
        await harness.Acquire(TestPolicies.Create(5, 1), "k");

        var health = await harness.CheckHealthAsync();

        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Equal("The custom store's circuit is Open; the failure mode applies.", health.Description);
        Assert.Equal(0, store.Checks);
    }

    [Fact]
    public async Task A_store_that_says_it_is_unavailable_is_degraded_with_its_reason_and_what_went_wrong_underneath()
    {
        var underneath = new TimeoutException("no answer");
        using var harness = new LimiterHarness(new CheckedStore { Unavailable = new TokenBucketStoreUnavailableException("The ledger did not answer", underneath) });

        var health = await harness.CheckHealthAsync();

        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Equal("The ledger did not answer; the failure mode applies.", health.Description);
        Assert.Same(underneath, health.Exception);
    }

    [Fact]
    public async Task A_store_whose_check_throws_anything_else_is_degraded_and_the_exception_named()
    {
        var thrown = new InvalidCastException("odd reply");
        using var harness = new LimiterHarness(new CheckedStore { Unavailable = thrown });

        var health = await harness.CheckHealthAsync();

        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Equal("The custom store failed its health check (InvalidCastException); the failure mode applies.", health.Description);
        Assert.Same(thrown, health.Exception);
    }

    [Fact]
    public async Task A_redis_store_whose_connection_is_not_made_yet_is_degraded()
    {
        using var store = new RedisTokenBucketStore(new TaskCompletionSource<IConnectionMultiplexer>().Task, "rg", clientClock: null, ownsConnection: false, TimeProvider.System);
        using var harness = new LimiterHarness(store);

        var health = await harness.CheckHealthAsync();

        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Equal("The connection to Redis has not been made yet; the failure mode applies.", health.Description);
    }

    [Fact]
    public async Task A_redis_store_that_answers_ping_is_healthy_with_the_round_trip()
    {
        using var server = RedisServer.Start();
        using var connection = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
        using var harness = new LimiterHarness(connection);

        var health = await harness.CheckHealthAsync();

        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Matches(@"^Redis answered PING in \d+\.\d ms\.$", health.Description);
    }

    private sealed class CheckedStore : ITokenBucketStore
    {
        public Exception? Fault { get; init; }

        public Exception? Unavailable { get; init; }

        public int Checks { get; private set; }

        public ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default) =>
            Fault is { } fault ? ValueTask.FromException<RateLimitDecision>(fault) : new(new RateLimitDecision(true, 0, TimeSpan.Zero, TimeSpan.Zero));

        public ValueTask<string> CheckHealthAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
        {
            Checks++;
            return Unavailable is { } unavailable ? ValueTask.FromException<string>(unavailable) : new("The ledger answered.");
        }
    }

    private sealed class PlainStore : ITokenBucketStore
    {
        public ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default) =>
            new(new RateLimitDecision(true, 0, TimeSpan.Zero, TimeSpan.Zero));
    }
}
