using System.Collections.Concurrent;

namespace RateGuard.Configuration;

/// <summary>
/// Every bucket name the app uses, with the highest cost a request of it declares: the names of the endpoints' limits,
/// those declared for the <c>RateLimiter</c> adapter with <c>AddTokenBucketNames</c>, and those the adapter has met.
/// Configuration is checked against it, so an override for a name nothing uses, or one that no request could pass,
/// is caught.
/// </summary>
internal sealed class KnownBuckets
{
    private readonly ConcurrentDictionary<string, int> _costs = new(StringComparer.Ordinal);

    public KnownBuckets(IEnumerable<TokenBucketName> declared)
    {
        foreach (var name in declared)
        {
            _costs.TryAdd(name.Name, 1);
        }
    }

    /// <summary>The names known so far, in alphabetical order.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            var names = _costs.Keys.ToArray();
            Array.Sort(names, static (a, b) => StringComparer.OrdinalIgnoreCase.Compare(a, b) is var c and not 0 ? c : string.CompareOrdinal(a, b));
            return names;
        }
    }

    /// <summary>Whether any name is known yet: before the endpoints are read, nothing can be checked against them.</summary>
    public bool IsEmpty => _costs.IsEmpty;

    /// <summary>Records that <paramref name="policy"/> is in use.</summary>
    public void Add(TokenBucketPolicy policy)
    {
        if (!_costs.TryGetValue(policy.Name, out var cost) || cost < policy.Cost)
        {
            _costs.AddOrUpdate(policy.Name, policy.Cost, (_, known) => Math.Max(known, policy.Cost));
        }
    }

    /// <summary>The highest cost declared for <paramref name="name"/>, if it is known.</summary>
    public bool TryGetCost(string name, out int cost) => _costs.TryGetValue(name, out cost);
}
