using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using RateGuard.Stores;

namespace RateGuard.Limiting.Fallback;

/// <summary>
/// The limits this process enforces on its own while Redis cannot decide: each at its share of the capacity and rate
/// (one instance's, of however many share the limits), starting from what Redis last said of the bucket rather than
/// from full, and keeping count of what it admitted so Redis can be charged for it when it returns.
/// </summary>
/// <remarks>
/// Scaling both the capacity and the rate by 1/N keeps the time an empty bucket takes to fill, so a bucket whose Redis
/// twin is full again at time <c>t</c> is seeded to be full again at <c>t</c> here too: it then holds its share of
/// the tokens Redis held. On return, the tokens taken here are charged to the Redis bucket (with the next request for
/// it, or in one batch), so no bucket gets a fresh burst at either switch.
/// </remarks>
internal sealed class LocalFallback(TimeProvider time, FallbackDebts? debts) : IDisposable
{
    // Enough for every client of a busy app; beyond it, buckets new to the fallback start full.
    private const int MaxRemembered = 100_000;

    private readonly InMemoryTokenBucketStore _store = new(time);
    // Weak keys: policies built per partition or per permit count (the RateLimiter adapter) come and go, and their
    // scaled twins must go with them.
    private readonly ConditionalWeakTable<TokenBucketPolicy, ScaledPolicy> _scaled = new();
    // When each bucket that Redis last left short of full is full again, in µs of the wall clock.
    private readonly ConcurrentDictionary<BucketIdentity, long> _lastSeen = new();
    // How many buckets _lastSeen holds: a dictionary's own count takes every one of its locks.
    private int _remembered;
    private long _lastSweep;
    private int _learnedInstances;

    /// <summary>How many instances share the limits: the configured count, else the one learned from Redis, else 1.</summary>
    public int Instances(TokenBucketOptions options) => options.InstanceCount ?? Math.Max(1, Volatile.Read(ref _learnedInstances));

    /// <summary>Takes the instance count that the heartbeats in Redis show.</summary>
    public void Learn(long instances) => Volatile.Write(ref _learnedInstances, (int)Math.Clamp(instances, 1, int.MaxValue));

    /// <summary>Remembers what Redis said of a bucket, to seed it here if Redis stops deciding.</summary>
    public void Observe(TokenBucketPolicy policy, string key, RateLimitDecision decision)
    {
        // Redis decides this bucket again: its twin here is done with, and the next outage starts from what Redis says.
        _store.Forget(policy, key);
        var now = UnixClock.NowMicroseconds(time);
        var fullAt = now + decision.ResetAfter.Ticks / TimeSpan.TicksPerMicrosecond;
        if (fullAt <= now)
        {
            return;
        }
        var id = BucketIdentity.Of(policy, key);
        if (_lastSeen.TryGetValue(id, out var known))
        {
            if (known != fullAt)
            {
                _lastSeen.TryUpdate(id, fullAt, known); // a race keeps the other reply's: either is what Redis said lately
            }
        }
        else if ((Volatile.Read(ref _remembered) < MaxRemembered || SweepIfDue(now)) && _lastSeen.TryAdd(id, fullAt))
        {
            Interlocked.Increment(ref _remembered);
        }
    }

    /// <summary>
    /// Decides one request for several buckets in this process, all or nothing, as Redis would; <see langword="null"/>
    /// when a policy cannot be scaled to one instance's share.
    /// </summary>
    public bool? DecideAll(TokenBucketPolicy[] policies, string[] keys, int instances, Span<RateLimitDecision> decisions)
    {
        var scaled = new TokenBucketPolicy[policies.Length];
        for (var i = 0; i < policies.Length; i++)
        {
            if (Scaled(policies[i], instances) is not { } share)
            {
                return null;
            }
            scaled[i] = share;
            Seed(policies[i], share, keys[i]);
        }
        var admitted = _store.AcquireAll(scaled, keys, decisions);
        if (admitted && debts is not null)
        {
            for (var i = 0; i < policies.Length; i++)
            {
                debts.Owe(policies[i], keys[i], policies[i].Cost);
            }
        }
        return admitted;
    }

    // A bucket new to this outage starts where Redis left it: the same share of its window is owed here as there.
    private void Seed(TokenBucketPolicy policy, TokenBucketPolicy scaled, string key)
    {
        if (Remove(BucketIdentity.Of(policy, key), out var fullAt))
        {
            var now = UnixClock.NowMicroseconds(time);
            if (fullAt > now)
            {
                var debt = (long)((fullAt - now) * ((double)scaled.WindowMicroseconds / policy.WindowMicroseconds));
                _store.Seed(scaled, key, now + debt);
            }
        }
    }

    /// <summary>
    /// Forgets one client's bucket (its value as stored, <see cref="BucketKey.Normalize"/>) under every shape of the
    /// name: a reset made it full again everywhere, so neither its share here nor what Redis last said of it holds any more.
    /// </summary>
    public void Forget(string bucket, string storedValue)
    {
        _store.ForgetStored(bucket, storedValue);
        foreach (var id in _lastSeen.Keys)
        {
            if (id.Bucket == bucket && id.Key == storedValue)
            {
                Remove(id, out _);
            }
        }
    }

    // Each of N instances enforces 1/N of the limit while they cannot share it. The cost stays what it is: a capacity
    // is never scaled below one request's cost, and a request that could never be admitted still cannot be. A
    // policy that cannot be scaled (a window past the limit) gets the failure mode instead.
    private TokenBucketPolicy? Scaled(TokenBucketPolicy policy, int instances)
    {
        if (instances <= 1)
        {
            return policy;
        }
        // The instance count changes: a twin scaled for another count is replaced.
        if (_scaled.TryGetValue(policy, out var known) && known.Instances == instances)
        {
            return known.Policy;
        }
        var scaled = new ScaledPolicy(instances, Scale(policy, instances));
        _scaled.AddOrUpdate(policy, scaled);
        return scaled.Policy;
    }

    private static TokenBucketPolicy? Scale(TokenBucketPolicy policy, int instances)
    {
        try
        {
            var capacity = policy.Cost > policy.Capacity ? Math.Max(1, policy.Capacity / instances) : Math.Max(policy.Cost, policy.Capacity / instances);
            return new TokenBucketPolicy(policy.Name, capacity, policy.Rate / instances, policy.Cost);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    // Drops buckets that are full again, at most once a second. Returns whether there is room now.
    private bool SweepIfDue(long now)
    {
        var last = Volatile.Read(ref _lastSweep);
        if (now - last < 1_000_000 || Interlocked.CompareExchange(ref _lastSweep, now, last) != last)
        {
            return false;
        }
        foreach (var (id, fullAt) in _lastSeen)
        {
            if (fullAt <= now && _lastSeen.TryRemove(new KeyValuePair<BucketIdentity, long>(id, fullAt)))
            {
                Interlocked.Decrement(ref _remembered);
            }
        }
        return Volatile.Read(ref _remembered) < MaxRemembered;
    }

    private bool Remove(BucketIdentity id, out long fullAt)
    {
        if (_lastSeen.TryRemove(id, out fullAt))
        {
            Interlocked.Decrement(ref _remembered);
            return true;
        }
        return false;
    }

    public void Dispose() => _store.Dispose();

    private sealed record ScaledPolicy(int Instances, TokenBucketPolicy? Policy);
}
