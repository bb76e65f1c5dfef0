using System.Collections.Frozen;

namespace RateGuard.Clients;

/// <summary>
/// The overrides this instance applies: one client's capacity and rate on one bucket, set by an operator, until they
/// expire. Held whole in memory and replaced whole when the store's copy changes, so a request reads them with a
/// dictionary lookup or two and no call to the store; a request on an app with no overrides reads one field.
/// </summary>
internal sealed class ClientOverrides(TimeProvider time)
{
    private volatile Snapshot _current = Snapshot.Empty;

    /// <summary>Whether no override is held: the one check a request makes when none is set.</summary>
    public bool IsEmpty => _current.Count == 0;

    /// <summary>How many overrides are held.</summary>
    public int Count => _current.Count;

    /// <summary>Every override held, expired or not, in no particular order.</summary>
    public IReadOnlyCollection<ClientOverride> All => _current.Entries;

    /// <summary>
    /// The policy one request of <paramref name="key"/> on the bucket of <paramref name="declared"/> is decided by when
    /// an operator has overridden that client's limits there and the override has not expired.
    /// </summary>
    public bool TryGet(TokenBucketPolicy declared, string key, out TokenBucketPolicy policy)
    {
        var current = _current;
        if (current.Count != 0 && current.Find(declared.Name, key) is { } found && found.ExpiresAt > time.GetUtcNow())
        {
            policy = found.PolicyFor(declared);
            return true;
        }
        policy = declared;
        return false;
    }

    /// <summary>Replaces what is held by <paramref name="overrides"/>, as the store holds them now.</summary>
    public void Replace(IEnumerable<ClientOverride> overrides) => _current = new Snapshot(overrides);

    private sealed class Snapshot
    {
        public static readonly Snapshot Empty = new([]);

        // By bucket, then by key, both keyed by string: a frozen dictionary of strings hashes them its own fast way
        // (a pair of strings goes through the default, randomized hash of each), and a request on a bucket that no
        // override names is answered by the first lookup.
        private readonly FrozenDictionary<string, FrozenDictionary<string, ClientOverride>> _byBucket;

        public Snapshot(IEnumerable<ClientOverride> overrides)
        {
            var byBucket = new Dictionary<string, Dictionary<string, ClientOverride>>(StringComparer.Ordinal);
            foreach (var entry in overrides)
            {
                if (!byBucket.TryGetValue(entry.Bucket, out var byKey))
                {
                    byBucket[entry.Bucket] = byKey = new Dictionary<string, ClientOverride>(StringComparer.Ordinal);
                }
                byKey[entry.Key] = entry;
            }
            var entries = new List<ClientOverride>();
            var frozen = new Dictionary<string, FrozenDictionary<string, ClientOverride>>(byBucket.Count, StringComparer.Ordinal);
            foreach (var (bucket, byKey) in byBucket)
            {
                entries.AddRange(byKey.Values);
                frozen[bucket] = byKey.ToFrozenDictionary(StringComparer.Ordinal);
            }
            _byBucket = frozen.ToFrozenDictionary(StringComparer.Ordinal);
            Entries = [.. entries];
            Count = entries.Count;
        }

        public int Count { get; }

        public IReadOnlyCollection<ClientOverride> Entries { get; }

        public ClientOverride? Find(string bucket, string key) =>
            _byBucket.TryGetValue(bucket, out var byKey) ? byKey.GetValueOrDefault(key) : null;
    }
}
