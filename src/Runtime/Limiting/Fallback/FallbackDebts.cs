using System.Collections.Concurrent;
using RateGuard.Configuration;
using RateGuard.Limiting.Circuits;
using RateGuard.Stores;

namespace RateGuard.Limiting.Fallback;

/// <summary>
/// The tokens the local fallback admitted while Redis could not decide, owed to Redis. Each is charged with the next
/// request that goes to Redis for its bucket (as that request's debt), and the rest all at once, in the background, as
/// soon as their server answers again: so no bucket gets a fresh burst when Redis comes back.
/// </summary>
/// <remarks>
/// Only a Redis store is charged back: a store of the app's own takes no debts, and what its fallback admitted is not
/// owed to it.
/// </remarks>
internal sealed class FallbackDebts(RedisTokenBucketStore redis, StoreCircuits circuits, CurrentOptions options, TimeProvider time)
{
    // How often the debts are charged back at most, while some server is still away.
    private static readonly TimeSpan s_chargePause = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<BucketIdentity, Owed> _owed = new();
    // How many buckets owe: every request asks, and a dictionary asked whether it is empty takes all its locks when it is.
    private int _count;
    private int _charging;
    private long _lastCharge = long.MinValue;

    /// <summary>Whether any tokens are owed.</summary>
    public bool Any => Volatile.Read(ref _count) > 0;

    /// <summary>Owes <paramref name="tokens"/> to a bucket: admitted locally, or the call that was to charge them failed.</summary>
    public void Owe(TokenBucketPolicy policy, string key, int tokens)
    {
        if (tokens <= 0)
        {
            return;
        }
        var id = BucketIdentity.Of(policy, key);
        while (true)
        {
            if (_owed.TryGetValue(id, out var owed))
            {
                if (_owed.TryUpdate(id, owed with { Tokens = owed.Tokens + tokens }, owed))
                {
                    return;
                }
            }
            else if (_owed.TryAdd(id, Owed.Of(policy, key, tokens)))
            {
                Interlocked.Increment(ref _count);
                return;
            }
        }
    }

    /// <summary>Takes what a bucket owes, to be charged with the request that goes to Redis for it now.</summary>
    public int Take(TokenBucketPolicy policy, string key) =>
        Any && Remove(BucketIdentity.Of(policy, key)) is { } owed ? owed.Tokens : 0;

    /// <summary>Forgets what one client's bucket owes (its value as stored, <see cref="BucketKey.Normalize"/>): a reset made it full.</summary>
    public void Forget(string bucket, string storedValue)
    {
        foreach (var id in _owed.Keys)
        {
            if (id.Bucket == bucket && id.Key == storedValue)
            {
                Remove(id);
            }
        }
    }

    /// <summary>
    /// Charges every debt whose server answers again, all at once and in the background; at most once every
    /// <see cref="s_chargePause"/>, and never twice at a time.
    /// </summary>
    public void ChargeBack()
    {
        var now = time.GetTimestamp();
        var last = Volatile.Read(ref _lastCharge);
        if ((last != long.MinValue && time.GetElapsedTime(last, now) < s_chargePause) || Interlocked.CompareExchange(ref _charging, 1, 0) != 0)
        {
            return;
        }
        Volatile.Write(ref _lastCharge, now);
        _ = Task.Run(ChargeAllAsync);
    }

    private async Task ChargeAllAsync()
    {
        try
        {
            var taken = new List<Owed>();
            foreach (var id in _owed.Keys)
            {
                if (Remove(id) is { } owed)
                {
                    taken.Add(owed);
                }
            }
            var timeout = options.Value.Timeout;
            await Task.WhenAll(taken.Select(owed => ChargeAsync(owed, timeout))).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _charging, 0);
        }
    }

    private async Task ChargeAsync(Owed owed, TimeSpan timeout)
    {
        var policy = owed.Policy;
        var storageKey = redis.GetKey(policy, owed.Key);
        var slot = redis.SlotOf(storageKey);
        if (circuits.Of(redis.OwnerOf(slot), slot).Breaker.State != CircuitState.Closed)
        {
            Owe(policy, owed.Key, owed.Tokens); // that server is still away
            return;
        }
        try
        {
            await redis.DecideAsync([storageKey], [new BucketCharge(policy, 0, owed.Tokens)], deadline: 0).WaitAsync(timeout, time).ConfigureAwait(false);
        }
        catch (Exception)
        {
            Owe(policy, owed.Key, owed.Tokens);
        }
    }

    private Owed? Remove(BucketIdentity id)
    {
        if (!_owed.TryRemove(id, out var owed))
        {
            return null;
        }
        Interlocked.Decrement(ref _count);
        return owed;
    }

    /// <summary>
    /// Tokens admitted locally for one client's bucket, and what is needed to charge them to Redis: the bucket's shape,
    /// not the policy object, which may be one the app lets go of during the outage.
    /// </summary>
    private sealed record Owed(string Bucket, int Capacity, double Rate, string Key, int Tokens)
    {
        public static Owed Of(TokenBucketPolicy policy, string key, int tokens) => new(policy.Name, policy.Capacity, policy.Rate, key, tokens);

        /// <summary>A policy of the bucket's shape.</summary>
        public TokenBucketPolicy Policy => new(Bucket, Capacity, Rate);
    }
}
