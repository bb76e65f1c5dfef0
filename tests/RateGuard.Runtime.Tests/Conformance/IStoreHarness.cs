using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;

namespace RateGuard.Runtime.Tests.Conformance;

/// <summary>A store under test, driven by a fake clock.</summary>
public interface IStoreHarness : IDisposable
{
    ITokenBucketStore Store { get; }

    ManualClock Clock { get; }

    /// <summary>Decides one request that draws from several buckets: all admit and are charged, or none is.</summary>
    Task<(bool Admitted, RateLimitDecision[] Decisions)> AcquireAllAsync(TokenBucketPolicy[] policies, string[] keys);

    /// <summary>Whether the store still holds state for this bucket.</summary>
    Task<bool> HoldsBucketAsync(TokenBucketPolicy policy, string key);

    /// <summary>
    /// Lets the store drop a bucket that the fake clock says has refilled: Redis through the key's real expiry,
    /// memory through its sweep.
    /// </summary>
    Task LetIdleBucketsExpireAsync(TokenBucketPolicy policy, string key);
}
