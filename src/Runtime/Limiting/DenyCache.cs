using System.Collections.Concurrent;
using RateGuard.Stores;

namespace RateGuard.Limiting;

/// <summary>
/// Remembers that a bucket rejected a client until its retry-after, so that client's requests are rejected in-process
/// meanwhile. Exact: tokens only ever appear with time, so no request costing at least as much can be admitted before
/// then. The retry-after is counted from when the rejected request was sent, which is no later than when Redis decided,
/// so an entry never outlives the real wait.
/// </summary>
internal sealed class DenyCache(int capacity, TimeProvider time)
{
    // A bucket that can never admit this cost is remembered for a minute, not forever: configuration may change it.
    private static readonly TimeSpan s_neverFor = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<(string Bucket, string Key), Entry> _entries = new();

    public int Count => _entries.Count;

    /// <summary>Rejects in-process when a remembered rejection still holds for this cost.</summary>
    public bool TryReject(TokenBucketPolicy policy, string key, out RateLimitDecision decision)
    {
        decision = default;
        if (_entries.IsEmpty || !_entries.TryGetValue((policy.Name, BucketKey.Normalize(key)), out var entry))
        {
            return false;
        }
        var now = time.GetTimestamp();
        if (now >= entry.Until)
        {
            _entries.TryRemove(new KeyValuePair<(string, string), Entry>((policy.Name, BucketKey.Normalize(key)), entry));
            return false;
        }
        if (policy.Cost < entry.Cost)
        {
            return false; // a cheaper request may fit in what the bucket already holds
        }
        var left = time.GetElapsedTime(now, entry.Until);
        decision = new RateLimitDecision(false, entry.Remaining, entry.Never ? RateLimitDecision.Never : left, left);
        return true;
    }

    /// <summary>Remembers a rejection; <paramref name="sentAt"/> is the timestamp taken just before the request was sent.</summary>
    public void Remember(TokenBucketPolicy policy, string key, long sentAt, RateLimitDecision decision)
    {
        if (capacity == 0 || decision.IsAdmitted)
        {
            return;
        }
        var wait = decision.CanEverBeAdmitted ? decision.RetryAfter : s_neverFor;
        var until = sentAt + (long)(wait.TotalSeconds * time.TimestampFrequency);
        if (_entries.Count >= capacity && !Sweep())
        {
            return; // full of live entries: stay bounded and let Redis decide
        }
        _entries[(policy.Name, BucketKey.Normalize(key))] = new Entry(until, policy.Cost, decision.Remaining, !decision.CanEverBeAdmitted);
    }

    public void Clear() => _entries.Clear();

    // Drops expired entries; returns whether there is room now.
    private bool Sweep()
    {
        var now = time.GetTimestamp();
        foreach (var (key, entry) in _entries)
        {
            if (now >= entry.Until)
            {
                _entries.TryRemove(new KeyValuePair<(string, string), Entry>(key, entry));
            }
        }
        return _entries.Count < capacity;
    }

    private readonly record struct Entry(long Until, int Cost, long Remaining, bool Never);
}
