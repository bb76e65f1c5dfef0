using System.Globalization;
using RateGuard.Clients;
using RateGuard.Operations;
using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>
/// Client overrides in Redis, beside the buckets: one hash, <c>{prefix}:overrides</c>, with a field per override and
/// a version that every change moves on. Writes go through one script (<c>client-overrides.lua</c>), which removes the
/// expired overrides, checks the bound and changes the version atomically; instances read the version with one
/// <c>HGET</c> and the hash with one <c>HGETALL</c> when it changed. A write is also published on the channel
/// <c>{prefix}:overrides</c>, so that instances read it at once rather than at their next poll; a message lost, or a
/// subscription refused, leaves it to the poll.
/// </summary>
internal sealed class RedisClientOverrideStore(RedisTokenBucketStore store) : IClientOverrideStore
{
    private const string VersionField = "version";

    internal static LuaScript Script { get; } = new("RateGuard.client-overrides.lua");

    /// <summary>The hash's key: one key, so one slot on a cluster.</summary>
    internal string Key => store.Prefix + ":overrides";

    public async Task<long> VersionAsync()
    {
        var version = await Call(db => db.HashGetAsync(Key, VersionField)).ConfigureAwait(false);
        return version.IsNull ? 0 : (long)version;
    }

    public async Task<StoredClientOverrides> LoadAsync()
    {
        var fields = await Call(db => db.HashGetAllAsync(Key)).ConfigureAwait(false);
        var version = 0L;
        var entries = new List<ClientOverride>(fields.Length);
        // Every override of a bucket shares one copy of its name.
        var buckets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            var name = (string)field.Name!;
            if (name == VersionField)
            {
                version = (long)field.Value;
            }
            else if (Parse(name, (string?)field.Value, buckets) is { } entry)
            {
                entries.Add(entry);
            }
        }
        return new StoredClientOverrides(version, entries);
    }

    public async Task<(bool Kept, int Held)> SetAsync(ClientOverride entry, int max, DateTimeOffset now)
    {
        var expires = entry.ExpiresAt.ToUnixTimeMilliseconds();
        var value = string.Create(CultureInfo.InvariantCulture, $"{expires} {entry.Capacity} {entry.Rate:R}");
        return await RunAsync("set", now, Field(entry.Bucket, entry.Key), value, expires, max).ConfigureAwait(false);
    }

    public async Task<bool> RemoveAsync(string bucket, string key, DateTimeOffset now) =>
        (await RunAsync("remove", now, Field(bucket, key), RedisValue.EmptyString, RedisValue.EmptyString, RedisValue.EmptyString).ConfigureAwait(false)).Done;

    public IDisposable OnChanged(Action changed)
    {
        Action<RedisChannel, RedisValue> handler = (_, _) => changed();
        // Subscribed once the connection is made, and read at once then, rather than at the next poll: an instance that
        // starts gets the overrides as soon as Redis answers. The client subscribes again after a reconnect on its own;
        // a refusal (an ACL without the channel) is left to the poll.
        store.Connecting.ContinueWith(connecting =>
        {
            store.Connection?.GetSubscriber().SubscribeAsync(Channel, handler).ContinueWith(static s => _ = s.Exception,
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            changed();
        }, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        // A connection the app shares outlives this store: its handler goes when the limiter does.
        return new Subscription(() => store.Connection?.GetSubscriber().UnsubscribeAsync(Channel, handler, CommandFlags.FireAndForget));
    }

    private RedisChannel Channel => RedisChannel.Literal(store.Prefix + ":overrides");

    private sealed class Subscription(Action unsubscribe) : IDisposable
    {
        public void Dispose() => unsubscribe();
    }

    private async Task<(bool Done, int Held)> RunAsync(string operation, DateTimeOffset now, string field, RedisValue value, RedisValue expires, RedisValue max)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        RedisValue[] args = [operation, nowMs, field, value, expires, max, nowMs * 1000];
        var result = (RedisResult[])(await Call(db => Script.EvaluateAsync(db, [Key], args)).ConfigureAwait(false))!;
        var done = (long)result[0] == 1;
        if (done && store.Connection is { } connection)
        {
            // Best effort: the other instances' polls find the change anyway.
            _ = connection.GetSubscriber().PublishAsync(Channel, RedisValue.EmptyString, CommandFlags.FireAndForget);
        }
        return (done, (int)result[1]);
    }

    // Bucket names hold no ':' (TokenBucketPolicy.IsValidName), so the first one ends the name, whatever the value holds.
    private static string Field(string bucket, string key) => string.Concat(bucket, ":", key);

    // One override from its field and value, or null for a field that is not one (the soonest expiry) or is malformed.
    private static ClientOverride? Parse(string field, string? value, Dictionary<string, string> buckets)
    {
        var colon = field.IndexOf(':');
        if (colon <= 0 || value is null)
        {
            return null;
        }
        var parts = value.Split(' ');
        if (parts.Length != 3
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var capacity)
            || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var rate))
        {
            return null;
        }
        var bucket = field[..colon];
        if (!buckets.TryGetValue(bucket, out var shared))
        {
            buckets.Add(bucket, shared = bucket);
        }
        return new ClientOverride(shared, field[(colon + 1)..], capacity, rate, DateTimeOffset.FromUnixTimeMilliseconds(expires));
    }

    // A Redis that cannot be reached says so as the operations service and the sync expect, with
    // TokenBucketStoreUnavailableException; while it is unreachable, the call fails before touching the connection, as
    // decisions do.
    private async Task<T> Call<T>(Func<IDatabase, Task<T>> call)
    {
        if (store.Connection is not { IsConnected: true } connection)
        {
            throw new TokenBucketStoreUnavailableException("Redis is not connected.");
        }
        try
        {
            return await call(connection.GetDatabase()).ConfigureAwait(false);
        }
        catch (RedisException e)
        {
            throw new TokenBucketStoreUnavailableException(e.Message, e);
        }
    }
}
