using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RateGuard.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Limiting.Circuits;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using RateGuard.TestSupport;

namespace RateGuard.Runtime.Tests.Resilience;

public sealed class BreakerAndStoreFaultTests
{
    [Fact]
    public void A_probe_abandoned_by_its_client_hands_the_probe_to_the_next_request()
    {
        var time = new FakeTimeProvider();
        var breaker = new CircuitBreaker(threshold: 1, TimeSpan.FromSeconds(1), time);
        breaker.OnFailure(time.GetTimestamp());
        Assert.False(breaker.TryEnter(out _));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(breaker.TryEnter(out var first));
        Assert.True(first);
        Assert.False(breaker.TryEnter(out _)); // one probe at a time

        breaker.AbandonProbe();
        Assert.True(breaker.TryEnter(out var second));
        Assert.True(second);
        breaker.OnSuccess();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Theory]
    [InlineData(FailureMode.Open, nameof(DecisionSource.LocalFallback))]
    [InlineData(FailureMode.AdmitAll, nameof(DecisionSource.FailedOpen))]
    [InlineData(FailureMode.Closed, nameof(DecisionSource.FailedClosed))]
    public async Task Any_exception_from_the_store_gets_the_failure_mode_and_counts_toward_the_breaker(FailureMode mode, string expected)
    {
        var store = new FaultyStore(new InvalidCastException("a reply of an unexpected shape"));
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<ITokenBucketStore>(store);
        services.AddTokenBuckets(o => o.BreakerFailureThreshold = 2);
        using var provider = services.BuildServiceProvider();
        var limiter = provider.GetRequiredService<TokenBucketLimiter>();
        var policy = TestPolicies.Create(5, 1);

        var results = new List<LimiterResult>();
        for (var i = 0; i < 4; i++)
        {
            results.Add(await limiter.AcquireAsync(policy, mode, "k", CancellationToken.None));
        }

        // Open: each instance's share of the bucket, here all of it (one instance), so the four requests fit in five.
        Assert.All(results, r => Assert.Equal((expected, mode != FailureMode.Closed), (r.Source.ToString(), r.IsAdmitted)));
        Assert.Equal(2, store.Calls); // the circuit opened after two failures; the store was not called again
        Assert.Equal(CircuitState.Open, limiter.CircuitState);
    }

    [Fact]
    public async Task A_rejection_under_one_policy_does_not_deny_another_policy_sharing_its_bucket_name()
    {
        using var redis = new RedisFixture();
        using var harness = new LimiterHarness(redis.Connection);
        var strict = TestPolicies.Create(capacity: 1, rate: 0.01);
        var generous = new TokenBucketPolicy(strict.Name, 5, 0.01);

        Assert.True((await harness.Acquire(strict, "k")).IsAdmitted);
        Assert.Equal(DecisionSource.Store, (await harness.Acquire(strict, "k")).Source);
        Assert.Equal(DecisionSource.DenyCache, (await harness.Acquire(strict, "k")).Source);

        var other = await harness.Acquire(generous, "k");

        Assert.Equal(DecisionSource.Store, other.Source);
        Assert.True(other.IsAdmitted);
        Assert.Equal(1, harness.Count(strict.Name, RequestResults.DenyCache));
    }

    private sealed class FaultyStore(Exception fault) : ITokenBucketStore
    {
        public int Calls;

        public ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            return ValueTask.FromException<RateLimitDecision>(fault);
        }
    }
}
