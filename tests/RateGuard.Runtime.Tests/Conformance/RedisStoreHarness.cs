using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using RateGuard.TestSupport;

namespace RateGuard.Runtime.Tests.Conformance;

public sealed class RedisStoreHarness : IStoreHarness
{
    private readonly RedisFixture _redis;
    private readonly RedisTokenBucketStore _store;

    public RedisStoreHarness(RedisFixture redis)
    {
        _redis = redis;
        _store = new RedisTokenBucketStore(redis.Connection, clientClock: Clock);
    }

    public ManualClock Clock { get; } = new();

    public ITokenBucketStore Store => _store;

    public async Task<(bool Admitted, RateLimitDecision[] Decisions)> AcquireAllAsync(TokenBucketPolicy[] policies, string[] keys)
    {
        var storageKeys = policies.Select((p, i) => (StackExchange.Redis.RedisKey)_store.GetKey(p, keys[i])).ToArray();
        var charges = policies.Select(p => new BucketCharge(p, p.Cost, 0)).ToArray();
        var decisions = new RateLimitDecision[policies.Length];
        TokenBucketScript.Read(await _store.DecideAsync(storageKeys, charges, deadline: 0), decisions);
        return (decisions[0].IsAdmitted, decisions);
    }

    public async Task<bool> HoldsBucketAsync(TokenBucketPolicy policy, string key) =>
        await _redis.Database.KeyExistsAsync(_store.GetKey(policy, key));

    public async Task LetIdleBucketsExpireAsync(TokenBucketPolicy policy, string key)
    {
        // The key's TTL runs in real time; the buckets that test expiry refill within milliseconds.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (await HoldsBucketAsync(policy, key))
        {
            Assert.True(DateTime.UtcNow < deadline, "The bucket key did not expire within 5 s.");
            await Task.Delay(10);
        }
    }

    public void Dispose()
    {
    }
}
