using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RateGuard.Diagnostics;

namespace RateGuard.Limiting;

/// <summary>
/// Says in the log what buckets in shadow mode would have rejected: at most one line a minute per bucket, with how many
/// since the last, never one line a request. The counts themselves are in the metrics and the operations service.
/// </summary>
internal sealed class ShadowLog(ILogger logger, TimeProvider time)
{
    private static readonly TimeSpan s_quiet = TimeSpan.FromMinutes(1);
    // The most buckets followed: the set of bucket names is the app's, so this is only a guard.
    private const int MaxBuckets = 10_000;

    private readonly ConcurrentDictionary<string, Tally> _tallies = new(StringComparer.Ordinal);

    /// <summary>Notes one request that <paramref name="bucket"/> would have rejected, and logs when a minute has passed.</summary>
    public void Rejected(string bucket)
    {
        if (!_tallies.TryGetValue(bucket, out var tally))
        {
            if (_tallies.Count >= MaxBuckets)
            {
                return;
            }
            // The first rejection of a bucket is logged at once: a bucket's first minute in shadow mode is when its
            // owner watches.
            var first = new Tally(time.GetTimestamp());
            if (_tallies.TryAdd(bucket, first))
            {
                Log.FirstShadowRejection(logger, bucket);
                return;
            }
            tally = _tallies[bucket];
        }
        Interlocked.Increment(ref tally.Count);
        var now = time.GetTimestamp();
        var since = Volatile.Read(ref tally.Since);
        if (time.GetElapsedTime(since, now) < s_quiet || Interlocked.CompareExchange(ref tally.Since, now, since) != since)
        {
            return;
        }
        var count = Interlocked.Exchange(ref tally.Count, 0);
        Log.ShadowRejections(logger, bucket, count, time.GetElapsedTime(since, now).TotalSeconds);
    }

    private sealed class Tally(long since)
    {
        public long Count;
        public long Since = since;
    }
}
