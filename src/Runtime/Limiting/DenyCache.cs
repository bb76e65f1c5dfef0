using System.Collections.Concurrent;
using RateGuard.Stores;

namespace RateGuard.Limiting;

/// <summary>
/// Remembers that a bucket rejected a client until its retry-after, so that client's requests are rejected in-process
/// meanwhile. Exact: tokens only ever appear with time, so no request costing at least as much can be admitted before
/// then. Buckets that give tokens back after their requests run (counting by outcome) are not remembered, since a
/// refund can bring tokens sooner. The retry-after is counted from when the rejected request was sent, which is no later than when Redis decided,
/// so an entry never outlives the real wait.
/// </summary>
/// <remarks>
/// Redis may lose what an entry stands for: a restart or failover without the data, a <c>FLUSHALL</c>, an operator's
/// <c>DEL</c>. So an entry is trusted for at most <see cref="RevalidateAfter"/> after Redis last confirmed it: then one
/// request goes to Redis again, and the entry is renewed or, when Redis admits it, forgotten. A hot abuser therefore
/// costs about one Redis call a second instead of none, and no client stays rejected for long on a bucket that Redis no
/// longer holds.
/// </remarks>
internal sealed class DenyCache(int capacity, TimeProvider time)
{
    // A bucket that can never admit this cost is remembered for a minute, not forever: configuration may change it.
    private static readonly TimeSpan s_neverFor = TimeSpan.FromMinutes(1);

    /// <summary>How long a remembered rejection is trusted before one request asks Redis again.</summary>
    public static readonly TimeSpan RevalidateAfter = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<BucketIdentity, Entry> _entries = new();
    private int _count;
    private long _lastSweep;

    /// <summary>
    /// Rejects <paramref name="request"/> in-process when any of its buckets remembers rejecting its client at its cost;
    /// the store is then not asked for any of them. Fills each bucket's result: the remembered rejection, or not asked.
    /// </summary>
    public bool TryReject(LimitRequest request)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return false;
        }
        var results = request.Results;
        var rejected = false;
        for (var i = 0; i < results.Length; i++)
        {
            if (TryReject(request.Policy(i), request.Key(i), out var cached))
            {
                results[i] = new LimiterResult(cached, DecisionSource.DenyCache);
                rejected = true;
            }
            else
            {
                results[i] = new LimiterResult(default, DecisionSource.NotAsked);
            }
        }
        return rejected;
    }

    /// <summary>
    /// Learns from what the store decided for one bucket: a rejection to remember, or an admission that ends what was
    /// remembered. <paramref name="sentAt"/> is the timestamp taken just before the request was sent.
    /// </summary>
    public void Learn(TokenBucketPolicy policy, string key, long sentAt, RateLimitDecision decision)
    {
        if (decision.IsAdmitted)
        {
            Forget(policy, key);
        }
        else if (decision.RetryAfter > TimeSpan.Zero)
        {
            Remember(policy, key, sentAt, decision);
        }
    }

    /// <summary>Rejects in-process when a remembered rejection still holds for this cost.</summary>
    public bool TryReject(TokenBucketPolicy policy, string key, out RateLimitDecision decision)
    {
        decision = default;
        if (Volatile.Read(ref _count) == 0)
        {
            return false;
        }
        var id = BucketIdentity.Of(policy, key);
        if (!_entries.TryGetValue(id, out var entry))
        {
            return false;
        }
        var now = time.GetTimestamp();
        if (now >= entry.Until)
        {
            Remove(id, entry);
            return false;
        }
        if (policy.Cost < entry.Cost)
        {
            return false; // a cheaper request may fit in what the bucket already holds
        }
        if (time.GetElapsedTime(entry.Confirmed, now) >= RevalidateAfter && _entries.TryUpdate(id, entry with { Confirmed = now }, entry))
        {
            return false; // this one asks Redis whether the rejection still stands
        }
        var resetAfter = entry.FullAt > now ? time.GetElapsedTime(now, entry.FullAt) : TimeSpan.Zero;
        TimeSpan retryAfter;
        if (entry.Never || policy.Cost > policy.Capacity)
        {
            retryAfter = RateLimitDecision.Never;
        }
        else
        {
            // The bucket gains one token per interval, so each token this request costs beyond the remembered one
            // is one interval more: the same wait Redis would give it.
            var extra = TimeSpan.FromTicks((policy.Cost - entry.Cost) * policy.IntervalMicroseconds * TimeSpan.TicksPerMicrosecond);
            retryAfter = time.GetElapsedTime(now, entry.Until) + extra;
        }
        decision = new RateLimitDecision(false, entry.Remaining, retryAfter, resetAfter);
        return true;
    }

    private void Remember(TokenBucketPolicy policy, string key, long sentAt, RateLimitDecision decision)
    {
        if (capacity == 0 || decision.IsAdmitted)
        {
            return;
        }
        var wait = decision.CanEverBeAdmitted ? decision.RetryAfter : s_neverFor;
        var entry = new Entry(sentAt + Ticks(wait), sentAt + Ticks(decision.ResetAfter), policy.Cost, decision.Remaining, !decision.CanEverBeAdmitted, sentAt);
        var id = BucketIdentity.Of(policy, key);
        // Replace or add without check-then-act, so the count always matches the entries: an entry removed (expired,
        // swept or cleared) between a look and a write is added again through TryAdd, which counts it.
        for (var attempt = 0; attempt < 4; attempt++)
        {
            if (_entries.TryGetValue(id, out var existing))
            {
                if (_entries.TryUpdate(id, entry, existing))
                {
                    return;
                }
                continue;
            }
            if (Volatile.Read(ref _count) >= capacity && !SweepIfDue())
            {
                return; // full of live entries: stay bounded and let Redis decide
            }
            if (_entries.TryAdd(id, entry))
            {
                Interlocked.Increment(ref _count);
                return;
            }
        }
        // Still contended after a few tries: this rejection goes unremembered, and Redis decides the next request.
    }

    // Redis admitted this client: whatever was remembered no longer holds.
    private void Forget(TokenBucketPolicy policy, string key)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return;
        }
        var id = BucketIdentity.Of(policy, key);
        if (_entries.TryGetValue(id, out var entry))
        {
            Remove(id, entry);
        }
    }

    /// <summary>
    /// Forgets one client's rejections (its value as stored, <see cref="BucketKey.Normalize"/>) under every shape of the bucket's name: a reset made the bucket full again.
    /// Scans the cache, which is bounded, since resets are rare and rejections must stay cheap.
    /// </summary>
    public void Forget(string bucket, string storedValue)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return;
        }
        foreach (var (id, entry) in _entries)
        {
            if (id.Bucket == bucket && id.Key == storedValue)
            {
                Remove(id, entry);
            }
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * time.TimestampFrequency);

    public void Clear()
    {
        foreach (var (id, entry) in _entries)
        {
            Remove(id, entry);
        }
    }

    private void Remove(BucketIdentity id, Entry entry)
    {
        if (_entries.TryRemove(new KeyValuePair<BucketIdentity, Entry>(id, entry)))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    // Drops expired entries, at most once a second however many rejections arrive while full, so an attacker
    // spreading over many keys cannot make every rejection pay for a scan. Returns whether there is room now.
    private bool SweepIfDue()
    {
        var now = time.GetTimestamp();
        var last = Volatile.Read(ref _lastSweep);
        if (time.GetElapsedTime(last, now) < TimeSpan.FromSeconds(1) || Interlocked.CompareExchange(ref _lastSweep, now, last) != last)
        {
            return false;
        }
        foreach (var (id, entry) in _entries)
        {
            if (now >= entry.Until)
            {
                Remove(id, entry);
            }
        }
        return Volatile.Read(ref _count) < capacity;
    }

    private readonly record struct Entry(long Until, long FullAt, int Cost, long Remaining, bool Never, long Confirmed);
}
