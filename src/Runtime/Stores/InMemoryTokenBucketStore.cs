using System.Collections.Concurrent;

namespace RateGuard.Stores;

/// <summary>
/// Token buckets in this process, with exactly the semantics of the Redis store. Limits apply per process.
/// </summary>
/// <remarks>
/// Each bucket is one <see langword="long"/> (the time it is full again) updated with compare-and-swap, so
/// decisions are lock-free and allocate nothing once a bucket exists. A bucket that has refilled is in the same
/// state as one that never existed, so a periodic sweep driven by the <see cref="TimeProvider"/> removes it;
/// memory therefore tracks the buckets that are actually in debt.
/// </remarks>
public sealed class InMemoryTokenBucketStore : ITokenBucketStore, IDisposable
{
    /// <summary>The default time between sweeps for refilled buckets.</summary>
    public static readonly TimeSpan DefaultSweepInterval = TimeSpan.FromSeconds(30);

    // Marks a cell that a sweep has retired; a writer that sees it looks the bucket up again.
    private const long Retired = long.MinValue;

    private readonly ConcurrentDictionary<BucketId, Cell> _buckets = new();
    private readonly TimeProvider _time;
    private readonly ITimer _sweeper;

    /// <summary>Creates a store.</summary>
    /// <param name="time">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="sweepInterval">How often refilled buckets are removed; <see cref="DefaultSweepInterval"/> when <see langword="null"/>.</param>
    public InMemoryTokenBucketStore(TimeProvider? time = null, TimeSpan? sweepInterval = null)
    {
        var interval = sweepInterval ?? DefaultSweepInterval;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(sweepInterval));
        _time = time ?? TimeProvider.System;
        _sweeper = _time.CreateTimer(static state => ((InMemoryTokenBucketStore)state!).RemoveIdleBuckets(), this, interval, interval);
    }

    /// <summary>How many buckets are held right now.</summary>
    public int Count => _buckets.Count;

    /// <inheritdoc />
    public ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(partitionKey);
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<RateLimitDecision>(Acquire(policy, partitionKey));
    }

    /// <summary>Makes one decision synchronously.</summary>
    public RateLimitDecision Acquire(TokenBucketPolicy policy, string partitionKey)
    {
        // Hostile values are hashed here too, so a 16 KiB header cannot make one bucket hold 16 KiB.
        var id = new BucketId(policy.Name, BucketKey.Normalize(partitionKey));
        var now = UnixClock.NowMicroseconds(_time);
        while (true)
        {
            var cell = _buckets.GetOrAdd(id, static _ => new Cell());
            var fullAt = Volatile.Read(ref cell.FullAt);
            if (fullAt == Retired)
            {
                _buckets.TryRemove(new KeyValuePair<BucketId, Cell>(id, cell));
                continue;
            }

            var decision = TokenBucketMath.Decide(fullAt, now, policy, out var nextFullAt);
            if (!decision.IsAdmitted || Interlocked.CompareExchange(ref cell.FullAt, nextFullAt, fullAt) == fullAt)
            {
                return decision;
            }
        }
    }

    /// <summary>
    /// Starts the bucket of <paramref name="partitionKey"/> as full again at <paramref name="fullAtMicroseconds"/>
    /// (µs since the Unix epoch) instead of full now, unless this store already holds it.
    /// </summary>
    internal void Seed(TokenBucketPolicy policy, string partitionKey, long fullAtMicroseconds) =>
        _buckets.TryAdd(new BucketId(policy.Name, BucketKey.Normalize(partitionKey)), new Cell { FullAt = fullAtMicroseconds });

    /// <summary>Forgets the bucket of <paramref name="partitionKey"/>: it is full again.</summary>
    internal void Forget(TokenBucketPolicy policy, string partitionKey)
    {
        if (_buckets.IsEmpty)
        {
            return;
        }
        var id = new BucketId(policy.Name, BucketKey.Normalize(partitionKey));
        // Retired first, as the sweep does, so a decision racing with this one starts over on a fresh bucket.
        if (_buckets.TryGetValue(id, out var cell) && Volatile.Read(ref cell.FullAt) is var fullAt && fullAt != Retired
            && Interlocked.CompareExchange(ref cell.FullAt, Retired, fullAt) == fullAt)
        {
            _buckets.TryRemove(new KeyValuePair<BucketId, Cell>(id, cell));
        }
    }

    /// <summary>Removes every bucket that has refilled; it is indistinguishable from a bucket that never existed.</summary>
    public void RemoveIdleBuckets()
    {
        var now = UnixClock.NowMicroseconds(_time);
        foreach (var (id, cell) in _buckets)
        {
            var fullAt = Volatile.Read(ref cell.FullAt);
            if (fullAt != Retired && fullAt <= now && Interlocked.CompareExchange(ref cell.FullAt, Retired, fullAt) == fullAt)
            {
                _buckets.TryRemove(new KeyValuePair<BucketId, Cell>(id, cell));
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _sweeper.Dispose();

    private readonly record struct BucketId(string Bucket, string Value);

    private sealed class Cell
    {
        public long FullAt;
    }
}
