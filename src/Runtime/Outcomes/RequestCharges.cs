using RateGuard.Limiting;

namespace RateGuard.Outcomes;

/// <summary>
/// The limits of one admitted request that settle after it: each was charged its cost up front; the handler may report
/// the actual cost (<see cref="Charge"/>), charged at once as the difference; and once the response is known, a limit
/// that does not count it gives back all it took (<see cref="Finish"/>). Made only for endpoints with such a limit.
/// </summary>
/// <remarks>
/// Every change goes to the store as a debt, one script request batched with the others and not waited for: a refund
/// never fills a bucket above full; a charge may take it into debt. A change that fails leaves the bucket as charged.
/// </remarks>
internal sealed class RequestCharges(TokenBucketLimiter limiter, ChargeChecks checks, int capacity) : ITokenBucketChargeFeature
{
    // Room for every limit of the request, never resized; also what the request's changes lock, since the handler holds
    // this object as its feature and could lock that.
    private readonly Entry[] _entries = new Entry[capacity];
    private int _count;
    private double _charged;
    private bool _finished;

    /// <summary>Whether any limit lets the handler charge, so the feature is worth setting.</summary>
    public bool Charges { get; private set; }

    public double Charged
    {
        get
        {
            lock (_entries)
            {
                return _charged;
            }
        }
    }

    /// <summary>Adds a limit that took <paramref name="policy"/>'s cost from <paramref name="key"/>'s bucket.</summary>
    public void Add(TokenBucketPolicy policy, string key, OutcomeSettings settings)
    {
        _entries[_count++] = new Entry(policy, key, settings.Count, settings.MaxCost, policy.Cost);
        Charges |= settings.MaxCost > 0;
    }

    public void Charge(double tokens)
    {
        lock (_entries)
        {
            if (_finished)
            {
                return; // a refund has settled the request: what it costs no longer counts
            }
            // Every limit's charge is checked before any is made, so a report one limit refuses (in development, by
            // throwing) charges none of them.
            Span<long> targets = _count <= 16 ? stackalloc long[_count] : new long[_count];
            for (var i = 0; i < _count; i++)
            {
                var entry = _entries[i];
                targets[i] = entry.MaxCost == 0 ? entry.Taken : checks.Bounded(entry.Policy.Name, _charged + checks.Checked(entry.Policy.Name, tokens), entry.MaxCost);
            }
            for (var i = 0; i < _count; i++)
            {
                Move(ref _entries[i], targets[i]);
            }
            _charged += double.IsFinite(tokens) && tokens > 0 ? tokens : 0;
        }
    }

    /// <summary>
    /// Settles the request once its response is known (<paramref name="status"/>; 500 when it threw): each limit that does
    /// not count it gives back what it took.
    /// </summary>
    public void Finish(int status)
    {
        lock (_entries)
        {
            _finished = true;
            for (var i = 0; i < _count; i++)
            {
                ref var entry = ref _entries[i];
                if (entry.Count is { } rule && !rule.Counts(status))
                {
                    Move(ref entry, 0);
                }
            }
        }
    }

    private void Move(ref Entry entry, long target)
    {
        var delta = target - entry.Taken;
        if (delta == 0)
        {
            return;
        }
        limiter.Adjust(entry.Policy, entry.Key, (int)Math.Clamp(delta, int.MinValue, int.MaxValue), overdraw: delta > 0);
        entry.Taken = target;
    }

    private struct Entry(TokenBucketPolicy policy, string key, OutcomeRule? count, int maxCost, long taken)
    {
        public readonly TokenBucketPolicy Policy = policy;
        public readonly string Key = key;
        public readonly OutcomeRule? Count = count;
        public readonly int MaxCost = maxCost;
        public long Taken = taken;
    }
}
