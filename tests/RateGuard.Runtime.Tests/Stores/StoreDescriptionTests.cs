using RateGuard.Stores;
using StackExchange.Redis;

namespace RateGuard.Runtime.Tests.Stores;

/// <summary>What each kind of store says it is, and what a store of the app's own that says nothing gets by default.</summary>
public sealed class StoreDescriptionTests
{
    private static readonly TokenBucketPolicy s_policy = new("described", 10, 1);

    [Fact]
    public void The_in_memory_store_is_local_named_memory_and_takes_the_request_token()
    {
        using var memory = new InMemoryTokenBucketStore();
        ITokenBucketStore store = memory;

        Assert.Equal(("memory", true, true), (store.Name, store.IsLocal, store.TakesRequestCancellation));
    }

    [Fact]
    public void The_redis_store_is_remote_named_redis_and_takes_no_request_token()
    {
        // A connection that is never made: describing the store asks Redis nothing.
        using var redis = new RedisTokenBucketStore(new TaskCompletionSource<IConnectionMultiplexer>().Task, "rg", clientClock: null, ownsConnection: false, TimeProvider.System);
        ITokenBucketStore store = redis;

        Assert.Equal(("redis", false, false), (store.Name, store.IsLocal, store.TakesRequestCancellation));
    }

    [Fact]
    public void A_store_of_the_app_s_own_is_remote_named_custom_and_takes_the_request_token_by_default()
    {
        ITokenBucketStore store = new PlainStore();

        Assert.Equal(("custom", false, true), (store.Name, store.IsLocal, store.TakesRequestCancellation));
    }

    [Fact]
    public async Task A_store_of_the_app_s_own_reports_its_type_to_the_health_check_without_being_asked_anything()
    {
        var plain = new PlainStore();
        ITokenBucketStore store = plain;

        var description = await store.CheckHealthAsync(TimeSpan.FromSeconds(1));

        Assert.Equal("Token buckets in PlainStore.", description);
        Assert.Equal(0, plain.Calls);
    }

    [Fact]
    public async Task A_store_of_the_app_s_own_cannot_by_default_decide_buckets_together_be_inspected_or_be_reset()
    {
        ITokenBucketStore store = new PlainStore();

        var together = Assert.Throws<NotSupportedException>(() => store.AcquireAll([s_policy], ["k"], new RateLimitDecision[1]));
        var peek = await Assert.ThrowsAsync<NotSupportedException>(async () => await store.PeekAsync(s_policy, "k"));
        var reset = await Assert.ThrowsAsync<NotSupportedException>(async () => await store.ResetAsync(s_policy.Name, "k"));

        Assert.Equal("The token-bucket store PlainStore says it is local but cannot decide a request's buckets together; a local store implements AcquireAll.", together.Message);
        Assert.Equal("The token-bucket store PlainStore cannot be read without taking tokens; a store is inspected through PeekAsync, which it does not implement.", peek.Message);
        Assert.Equal("The token-bucket store PlainStore has no way to remove a bucket; a store is reset through ResetAsync, which it does not implement.", reset.Message);
    }

    [Fact]
    public async Task The_in_memory_store_peeks_without_taking_and_resets_a_bucket_to_full()
    {
        using var memory = new InMemoryTokenBucketStore();
        ITokenBucketStore store = memory;
        memory.Acquire(s_policy, "k");
        memory.Acquire(s_policy, "k");

        var before = await store.PeekAsync(s_policy, "k");
        var again = await store.PeekAsync(s_policy, "k");
        await store.ResetAsync(s_policy.Name, "k");
        var after = await store.PeekAsync(s_policy, "k");

        Assert.Equal(8, before.Remaining);
        Assert.Equal(8, again.Remaining);
        Assert.Equal(10, after.Remaining);
        Assert.Equal(TimeSpan.Zero, after.ResetAfter);
        Assert.Equal(0, memory.Count);
    }

    [Fact]
    public async Task The_in_memory_store_reports_how_many_buckets_it_holds_and_that_limits_are_per_process()
    {
        using var memory = new InMemoryTokenBucketStore();
        ITokenBucketStore store = memory;
        memory.Acquire(s_policy, "a");
        memory.Acquire(s_policy, "b");

        var description = await store.CheckHealthAsync(TimeSpan.FromSeconds(1));

        Assert.Equal("In-memory token buckets (2 held); limits apply per process.", description);
    }

    private sealed class PlainStore : ITokenBucketStore
    {
        public int Calls;

        public ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default)
        {
            Calls++;
            return new(new RateLimitDecision(true, 0, TimeSpan.Zero, TimeSpan.Zero));
        }
    }
}
