using System.Collections.Concurrent;
using RateGuard.Operations;
using RateGuard.Stores;

namespace RateGuard.Limiting;

/// <summary>
/// What this instance decided per bucket over the last <see cref="TokenBucketActivity.Window"/>: admitted and rejected
/// counts in ten-second steps, and the clients rejected most often in one-minute steps, for operators.
/// </summary>
/// <remarks>
/// Admissions cost one interlocked increment. Rejections also update a small table of the most rejected clients
/// (the Space-Saving scheme: a bounded table in which a newcomer takes the place of the least counted entry and
/// inherits its count), so a flood spread over millions of client values still holds memory to a few entries per
/// bucket, while any client that keeps being rejected cannot be crowded out of the table.
/// </remarks>
internal sealed class ActivityTracker(TimeProvider time)
{
    // Buckets are named in code and configuration, so few; the bound only guards against a runaway adapter caller.
    private const int MaxBuckets = 1024;
    private const int CountSteps = 30;
    private const int KeySteps = 5;
    private const int KeysPerStep = 64;

    private static readonly TimeSpan s_countStep = TokenBucketActivity.Window / CountSteps;
    private static readonly TimeSpan s_keyStep = TokenBucketActivity.Window / KeySteps;

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    public void Admitted(string bucket)
    {
        if (Find(bucket) is { } activity)
        {
            Interlocked.Increment(ref activity.Step(time.GetTimestamp(), time).Admitted);
        }
    }

    public void Rejected(string bucket, string key)
    {
        if (Find(bucket) is not { } activity)
        {
            return;
        }
        var now = time.GetTimestamp();
        Interlocked.Increment(ref activity.Step(now, time).Rejected);
        activity.Keys(now, time).Add(key.Length <= RejectedClient.MaxTrackedKeyLength ? key : BucketKey.Normalize(key), now);
    }

    /// <summary>Counts over the window for <paramref name="bucket"/>; zero for a bucket with no decisions yet.</summary>
    public TokenBucketActivity Activity(string bucket)
    {
        if (!_buckets.TryGetValue(bucket, out var activity))
        {
            return new TokenBucketActivity(0, 0);
        }
        var current = Period(time.GetTimestamp(), s_countStep);
        long admitted = 0, rejected = 0;
        foreach (var step in activity.Steps)
        {
            if (current - Volatile.Read(ref step.Period) < CountSteps)
            {
                admitted += Volatile.Read(ref step.Admitted);
                rejected += Volatile.Read(ref step.Rejected);
            }
        }
        return new TokenBucketActivity(admitted, rejected);
    }

    /// <summary>The clients rejected most often within the window, most first.</summary>
    public IReadOnlyList<RejectedClient> TopRejected(string bucket, int count)
    {
        if (count <= 0 || !_buckets.TryGetValue(bucket, out var activity))
        {
            return [];
        }
        var now = time.GetTimestamp();
        var current = Period(now, s_keyStep);
        var merged = new Dictionary<string, (long Count, long Last)>(StringComparer.Ordinal);
        foreach (var table in activity.KeyTables)
        {
            table.CopyTo(merged, current);
        }
        var utcNow = time.GetUtcNow();
        return merged
            .OrderByDescending(e => e.Value.Count).ThenBy(e => e.Key, StringComparer.Ordinal)
            .Take(count)
            .Select(e => new RejectedClient(e.Key, e.Value.Count, utcNow - time.GetElapsedTime(e.Value.Last, now)))
            .ToArray();
    }

    private Bucket? Find(string bucket) =>
        _buckets.TryGetValue(bucket, out var activity) ? activity
        : _buckets.Count >= MaxBuckets ? null
        : _buckets.GetOrAdd(bucket, static _ => new Bucket());

    private static long Period(long timestamp, TimeSpan step, TimeProvider time) => (long)(timestamp / (step.TotalSeconds * time.TimestampFrequency));

    private long Period(long timestamp, TimeSpan step) => Period(timestamp, step, time);

    private sealed class Bucket
    {
        public Bucket()
        {
            for (var i = 0; i < Steps.Length; i++)
            {
                Steps[i] = new CountStep();
            }
            for (var i = 0; i < KeyTables.Length; i++)
            {
                KeyTables[i] = new KeyTable();
            }
        }

        public CountStep[] Steps { get; } = new CountStep[CountSteps];

        public KeyTable[] KeyTables { get; } = new KeyTable[KeySteps];

        public CountStep Step(long now, TimeProvider time)
        {
            var period = Period(now, s_countStep, time);
            var step = Steps[period % CountSteps];
            if (Volatile.Read(ref step.Period) != period)
            {
                lock (step)
                {
                    if (step.Period != period)
                    {
                        // A step of the previous round: its counts fell out of the window.
                        step.Admitted = 0;
                        step.Rejected = 0;
                        Volatile.Write(ref step.Period, period);
                    }
                }
            }
            return step;
        }

        public KeyTable Keys(long now, TimeProvider time)
        {
            var period = Period(now, s_keyStep, time);
            var table = KeyTables[period % KeySteps];
            table.StartIfOlder(period);
            return table;
        }
    }

    private sealed class CountStep
    {
        public long Period = -1;
        public long Admitted;
        public long Rejected;
    }

    private sealed class KeyTable
    {
        private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
        private long _period = -1;

        public void StartIfOlder(long period)
        {
            if (Volatile.Read(ref _period) == period)
            {
                return;
            }
            lock (_entries)
            {
                if (_period != period)
                {
                    _entries.Clear();
                    Volatile.Write(ref _period, period);
                }
            }
        }

        public void Add(string key, long now)
        {
            lock (_entries)
            {
                if (_entries.TryGetValue(key, out var entry))
                {
                    entry.Count++;
                    entry.Last = now;
                    return;
                }
                long inherited = 0;
                if (_entries.Count >= KeysPerStep)
                {
                    // Full: the least counted entry makes way, and the newcomer inherits its count, so a client that
                    // keeps coming back climbs above the one-off values of a spread-out flood.
                    string? least = null;
                    foreach (var (candidate, counted) in _entries)
                    {
                        if (least is null || counted.Count < inherited)
                        {
                            least = candidate;
                            inherited = counted.Count;
                        }
                    }
                    _entries.Remove(least!);
                }
                _entries[key] = new Entry { Count = inherited + 1, Last = now };
            }
        }

        public void CopyTo(Dictionary<string, (long Count, long Last)> merged, long current)
        {
            lock (_entries)
            {
                if (current - _period >= KeySteps)
                {
                    return; // from a round that fell out of the window
                }
                foreach (var (key, entry) in _entries)
                {
                    merged[key] = merged.TryGetValue(key, out var sum) ? (sum.Count + entry.Count, Math.Max(sum.Last, entry.Last)) : (entry.Count, entry.Last);
                }
            }
        }

        private sealed class Entry
        {
            public long Count;
            public long Last;
        }
    }
}
