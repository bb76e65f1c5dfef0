using System.Threading.RateLimiting;
using RateGuard.Configuration;
using RateGuard.Limiting;

namespace RateGuard.Interop;

/// <summary>
/// One token bucket, in the configured store, as a <see cref="RateLimiter"/>. Decisions go through the same limiter as
/// <c>[TokenBucket]</c>: deny cache, time budget, circuit breaker, failure mode and metrics included, and the bucket's
/// configuration overrides (<c>TokenBuckets:Buckets:&lt;name&gt;</c>) and failure mode are read on every acquisition,
/// so a reload applies at once.
/// </summary>
/// <remarks>
/// <para>
/// A permit is one request of the policy: acquiring <c>n</c> permits takes <c>n</c> × <see cref="TokenBucketPolicy.Cost"/>
/// tokens, and asking for several permits that together exceed the bucket's capacity throws
/// <see cref="ArgumentOutOfRangeException"/>.
/// </para>
/// <para>
/// <see cref="RateLimiter.AttemptAcquire"/> is synchronous: over the in-memory store it decides, but over Redis it
/// cannot without blocking a thread, so it answers "not acquired" with no retry-after, and callers such as ASP.NET
/// Core's rate-limiting middleware go on to <see cref="RateLimiter.AcquireAsync"/>, which decides. Asking for zero
/// permits takes nothing and, since no store can be read without taking tokens, always answers "acquired", as every
/// acquisition does while <see cref="TokenBucketOptions.Enabled"/> is off.
/// </para>
/// </remarks>
internal sealed class TokenBucketStoreRateLimiter(TokenBucketLimiter limiter, ConfiguredPolicies configured, TokenBucketPolicy policy, string partitionKey, TimeProvider time) : RateLimiter
{
    // ASP.NET Core's rate-limiting middleware, like other callers, tries AttemptAcquire first and, when refused, calls
    // AcquireAsync at once on the same thread. Over the in-memory store the attempt has decided already, and its
    // rejection stands until its retry-after (tokens only come with time), so the call that follows is answered with it
    // rather than decided, and counted, a second time. Only a call that follows closely is taken for the same request.
    private static readonly TimeSpan s_followUp = TimeSpan.FromMilliseconds(100);

#pragma warning disable IDE1006 // t_ marks a thread-static field
    [ThreadStatic]
    private static TokenBucketStoreRateLimiter? t_refusedBy;
    [ThreadStatic]
    private static int t_refusedPermits;
    [ThreadStatic]
    private static long t_refusedAt;
    [ThreadStatic]
    private static LimiterResult t_refusal;
#pragma warning restore IDE1006

    private long _lastUsed = time.GetTimestamp();
    private int _inFlight;
    private int _disposed;

    // Busy while a decision is on its way: a partitioned limiter must not dispose it as idle meanwhile.
    public override TimeSpan? IdleDuration => Volatile.Read(ref _inFlight) > 0 ? null : time.GetElapsedTime(Volatile.Read(ref _lastUsed));

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        var (inForce, failureMode) = Prepare(permitCount, out var request);
        if (permitCount == 0 || !configured.Enforcing)
        {
            return TokenBucketLease.Acquired;
        }
        if (!limiter.DecidesSynchronously)
        {
            // A remote decision is left to AcquireAsync: starting one here would take tokens that no lease reports.
            return new TokenBucketLease(false, null);
        }
        var pending = limiter.AcquireAsync(request ?? inForce, failureMode, partitionKey, CancellationToken.None);
        var now = time.GetTimestamp();
        Volatile.Write(ref _lastUsed, now);
        var result = pending.Result;
        if (result.IsAdmitted)
        {
            t_refusedBy = null;
        }
        else
        {
            (t_refusedBy, t_refusedPermits, t_refusedAt, t_refusal) = (this, permitCount, now, result);
        }
        return Lease(result);
    }

    // The rejection AttemptAcquire just gave this same request, when this call is its immediate follow-up and the
    // rejection still holds; its retry-after is what is left of it.
    private bool TryTakeRefusal(int permitCount, out LimiterResult refusal)
    {
        refusal = default;
        if (!ReferenceEquals(t_refusedBy, this))
        {
            return false;
        }
        t_refusedBy = null;
        var elapsed = time.GetElapsedTime(t_refusedAt);
        var decision = t_refusal.Decision;
        if (t_refusedPermits != permitCount || elapsed >= s_followUp || (decision.CanEverBeAdmitted && elapsed >= decision.RetryAfter))
        {
            return false;
        }
        refusal = decision.CanEverBeAdmitted ? t_refusal with { Decision = decision with { RetryAfter = decision.RetryAfter - elapsed } } : t_refusal;
        return true;
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        var (inForce, failureMode) = Prepare(permitCount, out var request);
        if (permitCount == 0 || !configured.Enforcing)
        {
            return TokenBucketLease.Acquired;
        }
        if (TryTakeRefusal(permitCount, out var refusal))
        {
            return Lease(refusal);
        }
        Interlocked.Increment(ref _inFlight);
        try
        {
            return Lease(await limiter.AcquireAsync(request ?? inForce, failureMode, partitionKey, cancellationToken).ConfigureAwait(false));
        }
        finally
        {
            Volatile.Write(ref _lastUsed, time.GetTimestamp());
            Interlocked.Decrement(ref _inFlight);
        }
    }

    protected override void Dispose(bool disposing) => Volatile.Write(ref _disposed, 1);

    // The bucket as configuration has it now, and the policy of this request when it takes more than one permit.
    private ConfiguredPolicy Prepare(int permitCount, out TokenBucketPolicy? request)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        var bucket = configured.Of(policy);
        var current = bucket.Policy;
        var tokens = (long)permitCount * current.Cost;
        // One permit of a policy whose cost is above its capacity is a request the bucket rejects as never
        // admissible (a lease without retry-after), as an attribute's would be; only asking for several throws.
        if (tokens > current.Capacity && permitCount > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(permitCount), permitCount,
                $"{permitCount} permits of {current.Cost} tokens each exceed the capacity of bucket '{current.Name}' ({current.Capacity} tokens).");
        }
        request = permitCount <= 1 ? null : new TokenBucketPolicy(current.Name, current.Capacity, current.Rate, (int)tokens);
        return bucket;
    }

    private static TokenBucketLease Lease(LimiterResult result) =>
        result.IsAdmitted ? TokenBucketLease.Acquired
        : new TokenBucketLease(false, result.Decision.CanEverBeAdmitted ? result.Decision.RetryAfter : null);
}
