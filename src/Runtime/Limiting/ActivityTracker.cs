using System.Collections.Concurrent;
using RateGuard.Operations;
using RateGuard.Stores;

namespace RateGuard.Limiting;

/// <summary>
/// What this instance decided per bucket over the last <see cref="TokenBucketActivity.Window"/>: admitted and rejected
/// counts in ten-second steps, and the clients rejected most often in one-minute steps, for operators.
/// </summary>
/// <remarks>
/// An admission costs a lookup and one interlocked increment: a timer moves every bucket on to the next step, so a
/// decision reads no clock. Rejections also update a small table of the most rejected clients (the Space-Saving
/// scheme: a bounded table in which a newcomer takes the place of the least counted entry and inherits its count), so
/// a flood spread over millions of client values still holds memory to a few entries per bucket, while a client that
/// keeps being rejected cannot be crowded out of the table.
/// </remarks>
internal sealed class ActivityTracker : IDisposable
{
    // Buckets are named in code and configuration, so few; the bound only guards against a runaway adapter caller.
    private const int MaxBuckets = 1024;
    private const int CountSteps = 30;
    private const int StepsPerKeyStep = 6;
    private const int KeySteps = CountSteps / StepsPerKeyStep;
    private const int KeysPerStep = 64;

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    // Counts up once per step, for good; a bucket's slot for the current step is this modulo the number of slots.
    private int _step;

    public ActivityTracker(TimeProvider time)
    {
        _time = time;
        var step = TokenBucketActivity.Window / CountSteps;
        _timer = time.CreateTimer(static state => ((ActivityTracker)state!).NextStep(), this, step, step);
    }

    public void Admitted(string bucket)
    {
        if (Find(bucket) is { } activity)
        {
            Interlocked.Increment(ref activity.Admitted[Volatile.Read(ref _step) % CountSteps]);
        }
    }

    public void Rejected(string bucket, string key)
    {
        if (Find(bucket) is not { } activity)
        {
            return;
        }
        var step = Volatile.Read(ref _step);
        Interlocked.Increment(ref activity.Rejected[step % CountSteps]);
        activity.Keys[step / StepsPerKeyStep % KeySteps].Add(key.Length <= RejectedClient.MaxTrackedKeyLength ? key : BucketKey.Normalize(key), _time.GetTimestamp());
    }

    /// <summary>Counts over the window for <paramref name="bucket"/>; zero for a bucket with no decisions yet.</summary>
    public TokenBucketActivity Activity(string bucket)
    {
        if (!_buckets.TryGetValue(bucket, out var activity))
        {
            return new TokenBucketActivity(0, 0);
        }
        long admitted = 0, rejected = 0;
        for (var i = 0; i < CountSteps; i++)
        {
            admitted += Volatile.Read(ref activity.Admitted[i]);
            rejected += Volatile.Read(ref activity.Rejected[i]);
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
        var merged = new Dictionary<string, (long Count, long Last)>(StringComparer.Ordinal);
        foreach (var table in activity.Keys)
        {
            table.CopyTo(merged);
        }
        var now = _time.GetTimestamp();
        var utcNow = _time.GetUtcNow();
        return merged
            .OrderByDescending(e => e.Value.Count).ThenBy(e => e.Key, StringComparer.Ordinal)
            .Take(count)
            .Select(e => new RejectedClient(e.Key, e.Value.Count, utcNow - _time.GetElapsedTime(e.Value.Last, now)))
            .ToArray();
    }

    private Bucket? Find(string bucket) =>
        _buckets.TryGetValue(bucket, out var activity) ? activity
        : _buckets.Count >= MaxBuckets ? null
        : _buckets.GetOrAdd(bucket, static _ => new Bucket());

    // The slots the next step counts in start empty: what they held fell out of the window. Cleared before the step
    // moves on, so no decision counts into a slot that is about to be cleared.
    private void NextStep()
    {
        var next = Volatile.Read(ref _step) + 1;
        foreach (var activity in _buckets.Values)
        {
            Volatile.Write(ref activity.Admitted[next % CountSteps], 0);
            Volatile.Write(ref activity.Rejected[next % CountSteps], 0);
            if (next % StepsPerKeyStep == 0)
            {
                activity.Keys[next / StepsPerKeyStep % KeySteps].Clear();
            }
        }
        Volatile.Write(ref _step, next);
    }

    public void Dispose() => _timer.Dispose();

    private sealed class Bucket
    {
        public long[] Admitted { get; } = new long[CountSteps];

        public long[] Rejected { get; } = new long[CountSteps];

        public KeyTable[] Keys { get; } = [new(), new(), new(), new(), new()];
    }

    private sealed class KeyTable
    {
        private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

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

        public void Clear()
        {
            lock (_entries)
            {
                _entries.Clear();
            }
        }

        public void CopyTo(Dictionary<string, (long Count, long Last)> merged)
        {
            lock (_entries)
            {
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
