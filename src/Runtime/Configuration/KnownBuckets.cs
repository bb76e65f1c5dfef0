using System.Collections.Concurrent;

namespace RateGuard.Configuration;

/// <summary>
/// Every bucket name the app uses, with the highest cost a request of it declares and that request's policy: the names
/// of the endpoints' limits, those declared for the <c>RateLimiter</c> adapter with <c>AddTokenBucketNames</c>, and
/// those the adapter has met. Configuration is checked against it, so an override for a name nothing uses, or one that
/// no request could pass, is caught; operations find a bucket's shape in it by the name a person types.
/// </summary>
internal sealed class KnownBuckets
{
    private readonly ConcurrentDictionary<string, Known> _buckets = new(StringComparer.Ordinal);

    public KnownBuckets(IEnumerable<TokenBucketName> declared)
    {
        foreach (var name in declared)
        {
            _buckets.TryAdd(name.Name, new Known(1, null));
        }
    }

    /// <summary>The names known so far, in alphabetical order.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            var names = _buckets.Keys.ToArray();
            Array.Sort(names, static (a, b) => StringComparer.OrdinalIgnoreCase.Compare(a, b) is var c and not 0 ? c : string.CompareOrdinal(a, b));
            return names;
        }
    }

    // The buckets with a limit that reads the caller's plan, so plans declared for a bucket none reads are caught.
    private readonly ConcurrentDictionary<string, byte> _readingPlans = new(StringComparer.Ordinal);

    /// <summary>Records that a limit of bucket <paramref name="name"/> reads the caller's plan.</summary>
    public void ReadsPlans(string name) => _readingPlans.TryAdd(name, 0);

    /// <summary>The buckets with a limit that reads the caller's plan.</summary>
    public ICollection<string> BucketsReadingPlans => _readingPlans.Keys;

    /// <summary>Whether any name is known yet: before the endpoints are read, nothing can be checked against them.</summary>
    public bool IsEmpty => _buckets.IsEmpty;

    /// <summary>Records that <paramref name="policy"/> is in use.</summary>
    public void Add(TokenBucketPolicy policy)
    {
        // The common case, a bucket already known with this cost or more, reads and allocates nothing more.
        if (_buckets.TryGetValue(policy.Name, out var known) && known.Policy is not null && known.Cost >= policy.Cost)
        {
            return;
        }
        _buckets.AddOrUpdate(policy.Name, static (_, p) => new Known(p.Cost, p),
            static (_, known, p) => known.Policy is null || p.Cost > known.Cost ? new Known(Math.Max(known.Cost, p.Cost), p) : known, policy);
    }

    /// <summary>The highest cost declared for <paramref name="name"/>, if it is known.</summary>
    public bool TryGetCost(string name, out int cost)
    {
        var found = _buckets.TryGetValue(name, out var known);
        cost = known.Cost;
        return found;
    }

    /// <summary>
    /// The policy declared for <paramref name="name"/> with the highest cost; <see langword="null"/> for a name that
    /// was declared (<c>AddTokenBucketNames</c>) but not yet used, whose shape is not known.
    /// </summary>
    public bool TryGetPolicy(string name, out TokenBucketPolicy? policy)
    {
        var found = _buckets.TryGetValue(name, out var known);
        policy = known.Policy;
        return found;
    }

    private readonly record struct Known(int Cost, TokenBucketPolicy? Policy);
}
