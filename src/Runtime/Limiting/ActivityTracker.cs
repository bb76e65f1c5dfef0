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
/// scheme: a bounded table in which a newcomer takes the place of the least counted entry), so a flood spread over
/// millions of client values still holds memory to a few entries per bucket, while a client that keeps being rejected
/// cannot be crowded out of the table. The newcomer ranks by the count it takes over, but that count is not its own:
/// it is kept apart as what the client may have had, and only what was seen of the client is reported as its count.
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

    /// <summary>A request the bucket, in shadow mode, would have rejected and let through.</summary>
    public void ShadowRejected(string bucket)
    {
        if (Find(bucket) is { } activity)
        {
            Interlocked.Increment(ref activity.ShadowRejected[Volatile.Read(ref _step) % CountSteps]);
        }
    }

    /// <summary>Counts over the window for <paramref name="bucket"/>; zero for a bucket with no decisions yet.</summary>
    public TokenBucketActivity Activity(string bucket)
    {
        if (!_buckets.TryGetValue(bucket, out var activity))
        {
            return new TokenBucketActivity(0, 0);
        }
        long admitted = 0, rejected = 0, shadowRejected = 0;
        for (var i = 0; i < CountSteps; i++)
        {
            admitted += Volatile.Read(ref activity.Admitted[i]);
            rejected += Volatile.Read(ref activity.Rejected[i]);
            shadowRejected += Volatile.Read(ref activity.ShadowRejected[i]);
        }
        return new TokenBucketActivity(admitted, rejected) { ShadowRejected = shadowRejected };
    }

    /// <summary>
    /// The clients with the most rejections seen within the window, most first, each with how many more it may have had
    /// (see <see cref="RejectedClient"/>).
    /// </summary>
    public IReadOnlyList<RejectedClient> TopRejected(string bucket, int count)
    {
        if (count <= 0 || !_buckets.TryGetValue(bucket, out var activity))
        {
            return [];
        }
        var tallies = new Dictionary<string, Tally>(StringComparer.Ordinal);
        long floors = 0;
        foreach (var table in activity.Keys)
        {
            floors += table.CopyTo(tallies);
        }
        var now = _time.GetTimestamp();
        var utcNow = _time.GetUtcNow();
        // A minute whose table does not list the client may still have rejected it, up to that table's floor.
        return tallies
            .OrderByDescending(e => e.Value.Rejections).ThenBy(e => e.Key, StringComparer.Ordinal)
            .Take(count)
            .Select(e => new RejectedClient(
                e.Key,
                e.Value.Rejections,
                e.Value.Inherited + floors - e.Value.Floors,
                utcNow - _time.GetElapsedTime(e.Value.Last, now)))
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
            Volatile.Write(ref activity.ShadowRejected[next % CountSteps], 0);
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

        public long[] ShadowRejected { get; } = new long[CountSteps];

        public KeyTable[] Keys { get; } = [new(), new(), new(), new(), new()];
    }

    // One client's counts summed over the tables that list it.
    private sealed class Tally
    {
        public long Rejections;
        public long Inherited;
        // The floors of the tables that list it, to tell those that do not.
        public long Floors;
        public long Last;
    }

    private sealed class KeyTable
    {
        private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
        // Whether an entry has made way since the table was cleared: until then, every client rejected in this minute
        // is listed, and one that is not was not rejected.
        private bool _evicted;

        public void Add(string key, long now)
        {
            lock (_entries)
            {
                if (_entries.TryGetValue(key, out var entry))
                {
                    entry.Counted++;
                    entry.Last = now;
                    return;
                }
                long inherited = 0;
                if (_entries.Count >= KeysPerStep)
                {
                    // Full: the least counted entry makes way, and the newcomer ranks from its count, so a client that
                    // keeps coming back climbs above the one-off values of a spread-out flood. The newcomer may have
                    // been rejected that often before (while it was out of the table), but no more.
                    string? least = null;
                    foreach (var (candidate, counted) in _entries)
                    {
                        if (least is null || counted.Rank < inherited)
                        {
                            least = candidate;
                            inherited = counted.Rank;
                        }
                    }
                    _entries.Remove(least!);
                    _evicted = true;
                }
                _entries[key] = new Entry { Counted = 1, Inherited = inherited, Last = now };
            }
        }

        public void Clear()
        {
            lock (_entries)
            {
                _entries.Clear();
                _evicted = false;
            }
        }

        /// <summary>
        /// Adds this table's entries to <paramref name="tallies"/>, and returns its floor: the most rejections a client
        /// it does not list can have had in its minute. A client that made way had no more than the least ranked entry
        /// then, and ranks only grow.
        /// </summary>
        public long CopyTo(Dictionary<string, Tally> tallies)
        {
            lock (_entries)
            {
                long floor = 0;
                if (_evicted)
                {
                    floor = long.MaxValue;
                    foreach (var entry in _entries.Values)
                    {
                        floor = Math.Min(floor, entry.Rank);
                    }
                }
                foreach (var (key, entry) in _entries)
                {
                    if (!tallies.TryGetValue(key, out var tally))
                    {
                        tallies[key] = tally = new Tally { Last = entry.Last };
                    }
                    tally.Rejections += entry.Counted;
                    tally.Inherited += entry.Inherited;
                    tally.Floors += floor;
                    tally.Last = Math.Max(tally.Last, entry.Last);
                }
                return floor;
            }
        }

        private sealed class Entry
        {
            // Rejections seen since the client entered the table: all of them are its own.
            public long Counted;
            // The count of the entry it replaced: at most this many rejections before it entered.
            public long Inherited;
            public long Last;

            // Where the Space-Saving scheme ranks it: no client out of the table had more in this minute.
            public long Rank => Counted + Inherited;
        }
    }
}
