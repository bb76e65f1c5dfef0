using StackExchange.Redis;

namespace RateGuard.Limiting;

/// <summary>
/// The buckets of a request that one call decides: one cluster slot's (all of them, without a cluster), or one bucket
/// of a store of the app's own (no keys); and what the call made of them.
/// </summary>
internal sealed class StoreGroup(StoreNode node, int[] members, RedisKey[]? keys)
{
    public StoreNode Node { get; private set; } = node;

    /// <summary>The request's buckets in this group, by their index in the request.</summary>
    public int[] Members { get; } = members;

    public RedisKey[]? Keys { get; } = keys;

    public GroupOutcome Outcome { get; set; }

    /// <summary>Makes a request's one-bucket group, kept with the request in its pool, ready for another call.</summary>
    public void Reuse(StoreNode node, RedisKey key)
    {
        Node = node;
        Keys![0] = key;
        Outcome = GroupOutcome.Pending;
    }
}

/// <summary>What one call made of its group of buckets.</summary>
internal enum GroupOutcome
{
    Pending,
    Admitted,
    Rejected,
    Failed,
}
