using RateGuard.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Operations;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Runtime.Tests.Resilience;
using RateGuard.Stores;

namespace RateGuard.Runtime.Tests.Limiting;

/// <summary>The limiter and the operations service treat a store of the app's own by what it says it is, not by its class.</summary>
public sealed class StoreOfTheAppTests
{
    private static readonly RateLimitDecision s_admitted = new(true, 4, TimeSpan.Zero, TimeSpan.FromSeconds(1));

    [Fact]
    public async Task A_store_s_name_tags_its_call_durations_and_names_its_circuit()
    {
        using var harness = new LimiterHarness(new RecordingStore { Named = "ledger" });

        var result = await harness.Acquire(TestPolicies.Create(5, 1), "k");

        Assert.Equal(DecisionSource.Store, result.Source);
        var duration = Assert.Single(harness.StoreDurations.GetMeasurementSnapshot());
        Assert.Equal("ledger", duration.Tags[TokenBucketMetrics.StoreTag]);
        Assert.Equal("success", duration.Tags[TokenBucketMetrics.OutcomeTag]);
        Assert.Equal([("ledger", CircuitState.Closed)], harness.Limiter.Circuits);
    }

    [Fact]
    public async Task A_store_that_takes_the_request_token_is_given_it()
    {
        var store = new RecordingStore();
        using var harness = new LimiterHarness(store);
        using var request = new CancellationTokenSource();

        await harness.Limiter.AcquireAsync(TestPolicies.Create(5, 1), FailureMode.Open, "k", request.Token);

        Assert.Equal(request.Token, store.Token);
    }

    [Fact]
    public async Task A_store_that_declines_the_request_token_is_given_none_and_stops_being_waited_for_when_the_client_goes()
    {
        var store = new RecordingStore { TakesToken = false, Pending = new TaskCompletionSource<RateLimitDecision>() };
        using var harness = new LimiterHarness(store);
        using var request = new CancellationTokenSource();

        var decision = harness.Limiter.AcquireAsync(TestPolicies.Create(5, 1), FailureMode.Open, "k", request.Token).AsTask();
        request.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => decision);
        Assert.Equal(CancellationToken.None, store.Token);
    }

    [Fact]
    public async Task A_local_store_of_the_app_s_own_decides_a_request_s_buckets_together_in_one_synchronous_call()
    {
        var store = new RecordingStore { Local = true };
        using var harness = new LimiterHarness(store);
        var request = LimitRequest.Rent();
        try
        {
            request.Add(TestPolicies.Create(5, 1), FailureMode.Open, "a");
            request.Add(TestPolicies.Create(5, 1), FailureMode.Open, "b");

            var pending = harness.Limiter.AcquireAsync(request, CancellationToken.None);

            Assert.True(harness.Limiter.DecidesSynchronously);
            Assert.True(pending.IsCompletedSuccessfully);
            Assert.True(await pending);
            Assert.Equal([new LimiterResult(s_admitted, DecisionSource.Store), new LimiterResult(s_admitted, DecisionSource.Store)], request.Results);
        }
        finally
        {
            LimitRequest.Return(request);
        }
        // Local: no budget, so no store call is timed, and AcquireAsync is never called.
        Assert.Equal((1, 0), (store.Together, store.OneByOne));
        Assert.Empty(harness.StoreDurations.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task A_local_store_that_cannot_decide_buckets_together_says_what_to_implement()
    {
        using var harness = new LimiterHarness(new LocalWithoutAcquireAll());

        var error = await Assert.ThrowsAsync<NotSupportedException>(async () => await harness.Acquire(TestPolicies.Create(5, 1), "k"));

        Assert.Equal("The token-bucket store LocalWithoutAcquireAll says it is local but cannot decide a request's buckets together; a local store implements AcquireAll.", error.Message);
    }

    [Fact]
    public async Task A_store_of_the_app_s_own_that_can_peek_and_reset_is_inspected_and_reset_through_it()
    {
        var store = new RecordingStore();
        using var harness = new LimiterHarness(store);
        var policy = new TokenBucketPolicy("ledgered", 10, 1);
        harness.Configured(policy);

        var state = await harness.Operations.InspectAsync("ledgered", "alice");
        await harness.Operations.ResetAsync("ledgered", "alice");

        Assert.Equal(new TokenBucketState("ledgered", "alice", 4, 10, 1, TimeSpan.FromSeconds(1)), state);
        Assert.Equal([("peek", "ledgered", "alice"), ("reset", "ledgered", "alice")], store.Operations);
        Assert.Equal(0, store.OneByOne); // inspecting took nothing
    }

    [Fact]
    public async Task A_store_of_the_app_s_own_that_says_it_cannot_be_reached_is_reported_as_unavailable_by_inspect_and_reset()
    {
        var away = new TokenBucketStoreUnavailableException("The ledger is away");
        using var harness = new LimiterHarness(new RecordingStore { Away = away });
        harness.Configured(new TokenBucketPolicy("ledgered", 10, 1));

        var inspect = await Assert.ThrowsAsync<TokenBucketStoreUnavailableException>(async () => await harness.Operations.InspectAsync("ledgered", "alice"));
        var reset = await Assert.ThrowsAsync<TokenBucketStoreUnavailableException>(async () => await harness.Operations.ResetAsync("ledgered", "alice"));

        Assert.Equal("Bucket 'ledgered' could not be read from the store: The ledger is away", inspect.Message);
        Assert.Equal("Bucket 'ledgered' could not be reset in the store: The ledger is away", reset.Message);
        Assert.Same(away, inspect.InnerException);
        Assert.Same(away, reset.InnerException);
    }

    private sealed class RecordingStore : ITokenBucketStore
    {
        public string Named { get; init; } = "custom";

        public bool Local { get; init; }

        public bool TakesToken { get; init; } = true;

        public TaskCompletionSource<RateLimitDecision>? Pending { get; init; }

        public Exception? Away { get; init; }

        public CancellationToken? Token { get; private set; }

        public int OneByOne { get; private set; }

        public int Together { get; private set; }

        public List<(string Operation, string Bucket, string Key)> Operations { get; } = [];

        public string Name => Named;

        public bool IsLocal => Local;

        public bool TakesRequestCancellation => TakesToken;

        public ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default)
        {
            OneByOne++;
            Token = cancellationToken;
            return Pending is { } pending ? new(pending.Task) : new(s_admitted);
        }

        public bool AcquireAll(ReadOnlySpan<TokenBucketPolicy> policies, ReadOnlySpan<string> partitionKeys, Span<RateLimitDecision> decisions)
        {
            Together++;
            decisions.Fill(s_admitted);
            return true;
        }

        public ValueTask<RateLimitDecision> PeekAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default)
        {
            Operations.Add(("peek", policy.Name, partitionKey));
            return Away is { } away ? ValueTask.FromException<RateLimitDecision>(away) : new(s_admitted);
        }

        public ValueTask ResetAsync(string bucket, string partitionKey, CancellationToken cancellationToken = default)
        {
            Operations.Add(("reset", bucket, partitionKey));
            return Away is { } away ? ValueTask.FromException(away) : ValueTask.CompletedTask;
        }
    }

    private sealed class LocalWithoutAcquireAll : ITokenBucketStore
    {
        public bool IsLocal => true;

        public ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default) =>
            new(s_admitted);
    }
}
