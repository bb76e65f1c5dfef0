using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;

namespace RateGuard.Runtime.Tests.Conformance;

public sealed class InMemoryStoreHarness : IStoreHarness
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);

    private readonly InMemoryTokenBucketStore _store;

    public InMemoryStoreHarness()
    {
        _store = new InMemoryTokenBucketStore(Clock, SweepInterval);
    }

    public ManualClock Clock { get; } = new();

    public ITokenBucketStore Store => _store;

    public Task<(bool Admitted, RateLimitDecision[] Decisions)> AcquireAllAsync(TokenBucketPolicy[] policies, string[] keys)
    {
        var decisions = new RateLimitDecision[policies.Length];
        var admitted = _store.AcquireAll(policies, keys, decisions);
        return Task.FromResult((admitted, decisions));
    }

    public Task<bool> HoldsBucketAsync(TokenBucketPolicy policy, string key) => Task.FromResult(_store.Count > 0);

    public Task LetIdleBucketsExpireAsync(TokenBucketPolicy policy, string key)
    {
        // Advancing past the sweep interval fires the store's own timer.
        Clock.Advance(SweepInterval);
        return Task.CompletedTask;
    }

    public void Dispose() => _store.Dispose();
}
