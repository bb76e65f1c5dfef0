using System.Threading.RateLimiting;
using RateGuard.Limiting;

namespace RateGuard.Interop;

/// <summary>
/// One token bucket, in the configured store, as a <see cref="RateLimiter"/>. Decisions go through the same limiter as
/// <c>[TokenBucket]</c>: deny cache, time budget, circuit breaker, failure mode and metrics included.
/// </summary>
/// <remarks>
/// <see cref="RateLimiter.AttemptAcquire"/> is synchronous: over the in-memory store it decides, but over Redis it
/// cannot without blocking a thread, so it answers "not acquired" with no retry-after, and callers such as ASP.NET
/// Core's rate-limiting middleware go on to <see cref="RateLimiter.AcquireAsync"/>, which decides.
/// </remarks>
internal sealed class TokenBucketStoreRateLimiter(TokenBucketLimiter limiter, TokenBucketPolicy policy, FailureMode failureMode, string partitionKey, TimeProvider time) : RateLimiter
{
    private long _lastUsed = time.GetTimestamp();

    public override TimeSpan? IdleDuration => time.GetElapsedTime(Volatile.Read(ref _lastUsed));

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        if (permitCount == 0)
        {
            return TokenBucketLease.Acquired;
        }
        if (!limiter.DecidesSynchronously)
        {
            // A remote decision is left to AcquireAsync: starting one here would take tokens that no lease reports.
            return new TokenBucketLease(false, null);
        }
        Volatile.Write(ref _lastUsed, time.GetTimestamp());
        var pending = limiter.AcquireAsync(Policy(permitCount), failureMode, partitionKey, CancellationToken.None);
        return Lease(pending.Result);
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (permitCount == 0)
        {
            return TokenBucketLease.Acquired;
        }
        Volatile.Write(ref _lastUsed, time.GetTimestamp());
        return Lease(await limiter.AcquireAsync(Policy(permitCount), failureMode, partitionKey, cancellationToken).ConfigureAwait(false));
    }

    private TokenBucketPolicy Policy(int permitCount) =>
        permitCount == policy.Cost ? policy : new TokenBucketPolicy(policy.Name, policy.Capacity, policy.Rate, permitCount);

    private static TokenBucketLease Lease(LimiterResult result) =>
        result.IsAdmitted ? TokenBucketLease.Acquired
        : new TokenBucketLease(false, result.Decision.CanEverBeAdmitted ? result.Decision.RetryAfter : null);
}
