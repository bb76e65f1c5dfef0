using RateGuard.Limiting.Circuits;
using RateGuard.Stores;
using StackExchange.Redis;

namespace RateGuard.Limiting.Remote;

/// <summary>
/// The buckets of a request that one call decides: one cluster slot's (all of them, without a cluster), or one bucket
/// of a store of the app's own (no keys); the circuit of the server they are charged to; and what the call made of them.
/// </summary>
internal sealed class StoreGroup(StoreNode node, int[] members, RedisKey[]? keys, int slot = -1)
{
    /// <summary>The circuit of the server the group's keys belong to: their slot's owner when the call was made, or when it failed.</summary>
    public StoreNode Node { get; set; } = node;

    /// <summary>The cluster slot of the group's keys; -1 without a cluster.</summary>
    public int Slot { get; private set; } = slot;

    /// <summary>The request's buckets in this group, by their index in the request.</summary>
    public int[] Members { get; } = members;

    public RedisKey[]? Keys { get; } = keys;

    public GroupOutcome Outcome { get; set; }

    /// <summary>
    /// The calls a request needs on Redis: one per cluster slot its buckets' keys hash to (one without a cluster), each
    /// on the circuit of the server that owns the slot. A request of one bucket, the common case, reuses the group kept
    /// with it in its pool.
    /// </summary>
    public static StoreGroup[] OnRedis(LimitRequest request, RedisTokenBucketStore redis, StoreCircuits circuits)
    {
        var count = request.Count;
        if (count == 1)
        {
            var key = redis.GetKey(request.Policy(0), request.Key(0));
            var slot = redis.SlotOf(key);
            return request.OneGroup(circuits.Of(redis.OwnerOf(slot), slot), key, slot);
        }
        var keys = new string[count];
        Span<int> slots = count <= 16 ? stackalloc int[count] : new int[count];
        var distinct = 0;
        for (var i = 0; i < count; i++)
        {
            keys[i] = redis.GetKey(request.Policy(i), request.Key(i));
            slots[i] = redis.SlotOf(keys[i]);
            if (slots[..i].IndexOf(slots[i]) < 0)
            {
                distinct++;
            }
        }
        var groups = new StoreGroup[distinct];
        var made = 0;
        for (var i = 0; i < count; i++)
        {
            if (slots[..i].IndexOf(slots[i]) >= 0)
            {
                continue;
            }
            var members = new List<int>(count);
            for (var j = i; j < count; j++)
            {
                if (slots[j] == slots[i])
                {
                    members.Add(j);
                }
            }
            var groupKeys = new RedisKey[members.Count];
            for (var m = 0; m < members.Count; m++)
            {
                groupKeys[m] = keys[members[m]];
            }
            groups[made++] = new StoreGroup(circuits.Of(redis.OwnerOf(slots[i]), slots[i]), [.. members], groupKeys, slots[i]);
        }
        return groups;
    }

    /// <summary>The calls a request needs on a store of the app's own: one per bucket, on the store's circuit.</summary>
    public static StoreGroup[] OnOwnStore(LimitRequest request, StoreCircuits circuits)
    {
        var each = new StoreGroup[request.Count];
        for (var i = 0; i < each.Length; i++)
        {
            each[i] = new StoreGroup(circuits.Store, [i], null);
        }
        return each;
    }

    /// <summary>Makes a request's one-bucket group, kept with the request in its pool, ready for another call.</summary>
    public void Reuse(StoreNode node, RedisKey key, int slot)
    {
        Node = node;
        Slot = slot;
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
