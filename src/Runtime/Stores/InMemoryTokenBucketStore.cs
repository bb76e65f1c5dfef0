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
    /// <value><c>memory</c>.</value>
    public string Name => "memory";

    /// <inheritdoc />
    /// <value><see langword="true"/>: buckets are decided in this process, lock-free and synchronously.</value>
    public bool IsLocal => true;

    /// <inheritdoc />
    public ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(partitionKey);
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<RateLimitDecision>(Acquire(policy, partitionKey));
    }

    /// <summary>Makes one decision synchronously.</summary>
    public RateLimitDecision Acquire(TokenBucketPolicy policy, string partitionKey) => Acquire(policy, partitionKey, shadow: false);

    // A bucket in shadow mode that does not hold the cost answers admitted, with the wait it would have given, and
    // takes nothing (TokenBucketMath.Decide).
    private RateLimitDecision Acquire(TokenBucketPolicy policy, string partitionKey, bool shadow)
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

            var decision = TokenBucketMath.Decide(fullAt, now, policy, out var nextFullAt, shadow);
            if (!decision.IsAdmitted || decision.RetryAfter != TimeSpan.Zero || Interlocked.CompareExchange(ref cell.FullAt, nextFullAt, fullAt) == fullAt)
            {
                return decision;
            }
        }
    }

    /// <summary>
    /// Decides one request that draws from several buckets, atomically: it is admitted only if every bucket holds its
    /// cost, and then every bucket is charged; otherwise none is. The arithmetic is the script's.
    /// </summary>
    /// <remarks>
    /// Lock-free like the single decision: every bucket is read, the request decided, and each bucket moved on by
    /// compare-and-swap. When another decision got to one of them first, the buckets already moved are given their
    /// cost back and the request is decided again, so none is ever charged for a request that was not admitted.
    /// </remarks>
    public bool AcquireAll(ReadOnlySpan<TokenBucketPolicy> policies, ReadOnlySpan<string> partitionKeys, Span<RateLimitDecision> decisions) =>
        AcquireAll(policies, partitionKeys, decisions, shadow: default);

    /// <summary>
    /// Decides as <see cref="AcquireAll(ReadOnlySpan{TokenBucketPolicy}, ReadOnlySpan{string}, Span{RateLimitDecision})"/>
    /// does, with the buckets <paramref name="shadow"/> marks (empty for none) in shadow mode: one that does not hold its
    /// cost does not reject the request, takes nothing, and is answered admitted with the wait it would have given.
    /// </summary>
    internal bool AcquireAll(ReadOnlySpan<TokenBucketPolicy> policies, ReadOnlySpan<string> partitionKeys, Span<RateLimitDecision> decisions, ReadOnlySpan<bool> shadow)
    {
        if (policies.Length == 1)
        {
            decisions[0] = Acquire(policies[0], partitionKeys[0], !shadow.IsEmpty && shadow[0]);
            return decisions[0].IsAdmitted;
        }
        var n = policies.Length;
        var ids = new BucketId[n];
        var cells = new Cell[n];
        Span<int> earlier = stackalloc int[n];
        Span<int> later = stackalloc int[n];
        Span<long> fullAt = stackalloc long[n];
        Span<long> next = stackalloc long[n];
        for (var i = 0; i < n; i++)
        {
            ids[i] = new BucketId(policies[i].Name, BucketKey.Normalize(partitionKeys[i]));
            earlier[i] = -1;
            later[i] = -1;
            for (var j = i - 1; j >= 0; j--)
            {
                if (ids[j] == ids[i])
                {
                    earlier[i] = j;
                    later[j] = i;
                    break;
                }
            }
        }
        var now = UnixClock.NowMicroseconds(_time);
        while (true)
        {
            if (!ReadAll(ids, cells, earlier, fullAt))
            {
                continue;
            }
            if (!TokenBucketMath.DecideAll(fullAt, now, policies, earlier, decisions, next, shadow))
            {
                return false;
            }
            if (CommitAll(cells, earlier, later, fullAt, next, now))
            {
                return true;
            }
        }
    }

    // Reads each distinct bucket once; false when one was retired by the sweep meanwhile (then read again).
    private bool ReadAll(BucketId[] ids, Cell[] cells, ReadOnlySpan<int> earlier, Span<long> fullAt)
    {
        for (var i = 0; i < ids.Length; i++)
        {
            if (earlier[i] >= 0)
            {
                cells[i] = cells[earlier[i]];
                fullAt[i] = fullAt[earlier[i]];
                continue;
            }
            cells[i] = _buckets.GetOrAdd(ids[i], static _ => new Cell());
            fullAt[i] = Volatile.Read(ref cells[i].FullAt);
            if (fullAt[i] == Retired)
            {
                _buckets.TryRemove(new KeyValuePair<BucketId, Cell>(ids[i], cells[i]));
                return false;
            }
        }
        return true;
    }

    // Moves each distinct bucket to the total of its appearances. If another decision moved one first, gives the ones
    // already moved their charge back and returns false.
    private static bool CommitAll(Cell[] cells, ReadOnlySpan<int> earlier, ReadOnlySpan<int> later, ReadOnlySpan<long> fullAt, ReadOnlySpan<long> next, long now)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            if (later[i] >= 0)
            {
                continue; // its last appearance carries the total
            }
            var first = i;
            while (earlier[first] >= 0)
            {
                first = earlier[first];
            }
            if (Interlocked.CompareExchange(ref cells[i].FullAt, next[i], fullAt[first]) == fullAt[first])
            {
                continue;
            }
            for (var j = 0; j < i; j++)
            {
                if (later[j] < 0)
                {
                    var from = j;
                    while (earlier[from] >= 0)
                    {
                        from = earlier[from];
                    }
                    GiveBack(cells[j], next[j] - Math.Max(fullAt[from], now), now);
                }
            }
            return false;
        }
        return true;
    }

    // Takes a charge off a bucket, never past full: what others charged since stays charged.
    private static void GiveBack(Cell cell, long charge, long now)
    {
        while (true)
        {
            var current = Volatile.Read(ref cell.FullAt);
            if (current == Retired || Interlocked.CompareExchange(ref cell.FullAt, Math.Max(now, current - charge), current) == current)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Charges the bucket of <paramref name="partitionKey"/> <paramref name="tokens"/> more (negative: gives them back,
    /// never above full), whatever it holds: below empty, into debt, only when <paramref name="overdraw"/>. The twin of
    /// the script's debts.
    /// </summary>
    internal void Adjust(TokenBucketPolicy policy, string partitionKey, int tokens, bool overdraw)
    {
        var id = new BucketId(policy.Name, BucketKey.Normalize(partitionKey));
        var now = UnixClock.NowMicroseconds(_time);
        while (true)
        {
            // Giving back to a bucket that is not held changes nothing: it is full.
            var cell = tokens > 0 ? _buckets.GetOrAdd(id, static _ => new Cell()) : _buckets.GetValueOrDefault(id);
            if (cell is null)
            {
                return;
            }
            var fullAt = Volatile.Read(ref cell.FullAt);
            if (fullAt == Retired)
            {
                _buckets.TryRemove(new KeyValuePair<BucketId, Cell>(id, cell));
                continue;
            }
            if (Interlocked.CompareExchange(ref cell.FullAt, TokenBucketMath.Owe(fullAt, now, policy, tokens, overdraw), fullAt) == fullAt)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The bucket of <paramref name="partitionKey"/> as it stands, without taking anything: the decision a request
    /// costing nothing would get (its remaining tokens and time to full).
    /// </summary>
    internal RateLimitDecision Peek(TokenBucketPolicy policy, string partitionKey)
    {
        var now = UnixClock.NowMicroseconds(_time);
        var fullAt = _buckets.TryGetValue(new BucketId(policy.Name, BucketKey.Normalize(partitionKey)), out var cell) ? Volatile.Read(ref cell.FullAt) : now;
        return TokenBucketMath.Peek(fullAt == Retired ? now : fullAt, now, policy);
    }

    /// <inheritdoc />
    public ValueTask<RateLimitDecision> PeekAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(partitionKey);
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<RateLimitDecision>(Peek(policy, partitionKey));
    }

    /// <inheritdoc />
    /// <remarks>The buckets are this process's own: there is no other instance to tell.</remarks>
    public ValueTask ResetAsync(string bucket, string partitionKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        ArgumentNullException.ThrowIfNull(partitionKey);
        cancellationToken.ThrowIfCancellationRequested();
        ForgetStored(bucket, BucketKey.Normalize(partitionKey));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>Always healthy: there is nothing to reach. The report says how many buckets are held, and that limits apply per process.</remarks>
    public ValueTask<string> CheckHealthAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        new($"In-memory token buckets ({Count} held); limits apply per process.");

    /// <summary>
    /// Starts the bucket of <paramref name="partitionKey"/> as full again at <paramref name="fullAtMicroseconds"/>
    /// (µs since the Unix epoch) instead of full now, unless this store already holds it.
    /// </summary>
    internal void Seed(TokenBucketPolicy policy, string partitionKey, long fullAtMicroseconds) =>
        _buckets.TryAdd(new BucketId(policy.Name, BucketKey.Normalize(partitionKey)), new Cell { FullAt = fullAtMicroseconds });

    /// <summary>Forgets the bucket of <paramref name="partitionKey"/>: it is full again.</summary>
    internal void Forget(TokenBucketPolicy policy, string partitionKey) => ForgetStored(policy.Name, BucketKey.Normalize(partitionKey));

    /// <summary>
    /// Forgets the bucket named <paramref name="bucket"/> of the client value stored as <paramref name="storedValue"/>
    /// (<see cref="BucketKey.Normalize"/>): it is full again.
    /// </summary>
    internal void ForgetStored(string bucket, string storedValue)
    {
        // A lookup reads without a lock; asking whether the dictionary is empty would take all of them when it is.
        var id = new BucketId(bucket, storedValue);
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
