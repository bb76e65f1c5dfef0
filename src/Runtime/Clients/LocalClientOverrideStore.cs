namespace RateGuard.Clients;

/// <summary>
/// Client overrides kept in this process: with the in-memory buckets, and with a store of the app's own, which has no
/// place for them. Each instance then has overrides of its own, as it has buckets of its own.
/// </summary>
internal sealed class LocalClientOverrideStore : IClientOverrideStore
{
    private readonly Dictionary<(string Bucket, string Key), ClientOverride> _overrides = [];
    private long _version;

    public Task<long> VersionAsync() => Task.FromResult(Interlocked.Read(ref _version));

    public Task<StoredClientOverrides> LoadAsync()
    {
        lock (_overrides)
        {
            return Task.FromResult(new StoredClientOverrides(_version, [.. _overrides.Values]));
        }
    }

    public Task<(bool Kept, int Held)> SetAsync(ClientOverride entry, int max, DateTimeOffset now)
    {
        lock (_overrides)
        {
            RemoveExpired(now);
            var client = (entry.Bucket, entry.Key);
            if (!_overrides.ContainsKey(client) && _overrides.Count >= max)
            {
                return Task.FromResult((false, _overrides.Count));
            }
            _overrides[client] = entry;
            Changed();
            return Task.FromResult((true, _overrides.Count));
        }
    }

    public Task<bool> RemoveAsync(string bucket, string key, DateTimeOffset now)
    {
        lock (_overrides)
        {
            RemoveExpired(now);
            var removed = _overrides.Remove((bucket, key));
            if (removed)
            {
                Changed();
            }
            return Task.FromResult(removed);
        }
    }

    // Every write is made through this instance, which applies it at once.
    public IDisposable OnChanged(Action changed) => NoSubscription.Instance;

    private void RemoveExpired(DateTimeOffset now)
    {
        var removed = false;
        foreach (var (client, entry) in _overrides)
        {
            // Removing the current entry does not disturb a dictionary's enumeration.
            if (entry.ExpiresAt <= now)
            {
                removed |= _overrides.Remove(client);
            }
        }
        if (removed)
        {
            Changed();
        }
    }

    private void Changed() => Interlocked.Increment(ref _version);

    private sealed class NoSubscription : IDisposable
    {
        public static readonly NoSubscription Instance = new();

        public void Dispose()
        {
        }
    }
}
