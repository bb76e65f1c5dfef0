using Microsoft.Extensions.Logging;
using RateGuard.Clients;
using RateGuard.Configuration;
using RateGuard.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Stores;

namespace RateGuard.Operations;

/// <summary>
/// The operations service over the app's limiter: buckets are found by name among those the app declares or has used,
/// and each call goes through the limiter's own key composition and store.
/// </summary>
internal sealed class TokenBucketOperations(TokenBucketLimiter limiter, ConfiguredPolicies configured, CurrentOptions options, KnownBuckets known, TimeProvider time, ILogger logger) : ITokenBucketOperations
{
    // An operator's call may wait longer than a request's budget: a person is waiting, not a queue of requests.
    private static readonly TimeSpan s_storeTimeout = TimeSpan.FromSeconds(5);

    public IReadOnlyList<TokenBucketSummary> GetBuckets()
    {
        var names = known.Names;
        var buckets = new List<TokenBucketSummary>(names.Count);
        foreach (var name in names)
        {
            known.TryGetPolicy(name, out var declared);
            var activity = limiter.Activity.Activity(name);
            if (declared is null)
            {
                // Declared for the adapter but not used yet: its shape comes with its first request.
                buckets.Add(new TokenBucketSummary(name, 0, 0, 0, options.Value.FailureModeOf(name), activity) { Mode = ModeOf(name) });
                continue;
            }
            var (policy, failureMode) = configured.Of(declared);
            buckets.Add(new TokenBucketSummary(name, policy.Capacity, policy.Rate, policy.Cost, failureMode, activity) { Mode = ModeOf(name) });
        }
        return buckets;
    }

    private TokenBucketMode ModeOf(string bucket) => options.Value.IsShadow(bucket) ? TokenBucketMode.Shadow : TokenBucketMode.Enforce;

    public IReadOnlyList<StoreServerState> GetServers() =>
        limiter.Circuits.Select(c => new StoreServerState(c.Server, c.State)).ToArray();

    public int GetInstanceCount() => limiter.Instances;

    public IReadOnlyList<RejectedClient> GetTopRejected(string bucket, int count = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Find(bucket);
        return limiter.Activity.TopRejected(bucket, count);
    }

    public async ValueTask<TokenBucketState> InspectAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var declared = Find(bucket) ?? throw new UnknownTokenBucketException(bucket,
            $"Bucket '{bucket}' is declared (AddTokenBucketNames) but no request has used it on this instance yet, so its capacity and rate are not known here.");
        var policy = configured.Of(declared).Policy;
        RateLimitDecision state;
        try
        {
            var peek = limiter.Store.PeekAsync(policy, key, cancellationToken);
            state = peek.IsCompletedSuccessfully ? peek.Result : await peek.AsTask().WaitAsync(s_storeTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            throw new TokenBucketStoreUnavailableException($"Bucket '{bucket}' could not be read from the store: {e.Message}", e);
        }
        return new TokenBucketState(bucket, key, state.Remaining, policy.Capacity, policy.Rate, state.ResetAfter);
    }

    public async ValueTask ResetAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        Find(bucket);
        try
        {
            var reset = limiter.Store.ResetAsync(bucket, key, cancellationToken);
            if (!reset.IsCompletedSuccessfully)
            {
                await reset.AsTask().WaitAsync(s_storeTimeout, time, cancellationToken).ConfigureAwait(false);
            }
            // The store is reset; this instance forgets what it remembered of the bucket, and a store shared between
            // instances (Redis, through pub/sub) tells the others to do the same.
            limiter.Forget(bucket, BucketKey.Normalize(key));
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            throw new TokenBucketStoreUnavailableException($"Bucket '{bucket}' could not be reset in the store: {e.Message}", e);
        }
    }

    public async ValueTask SetOverrideAsync(string bucket, string key, int capacity, double rate, TimeSpan expiresAfter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        // A bucket declared by name alone has no cost known yet: none is checked, and each request is still given at
        // least its cost (ClientOverride.PolicyFor).
        var declared = Find(bucket);
        ClientOverrideRules.ThrowIfInvalid(key, capacity, rate, expiresAfter, bucket, declared?.Cost);
        var now = time.GetUtcNow();
        // Kept to the millisecond, as the store keeps it, so that what is read back is what was set.
        var expiresAt = DateTimeOffset.FromUnixTimeMilliseconds((now + expiresAfter).ToUnixTimeMilliseconds());
        var max = options.Value.MaxOverrides;
        var (kept, held) = await WriteAsync(store => store.SetAsync(new ClientOverride(bucket, key, capacity, rate, expiresAt), max, now),
            $"The override of client '{key}' on bucket '{bucket}' could not be written to the store", cancellationToken).ConfigureAwait(false);
        if (!kept)
        {
            throw new InvalidOperationException(
                $"The store already holds {held:#,0} client overrides, the most TokenBuckets:MaxOverrides allows ({max:#,0}), so the override of client '{key}' on bucket '{bucket}' is not set. " +
                "Remove one, let one expire, or raise TokenBuckets:MaxOverrides.");
        }
        Log.ClientOverrideSet(logger, bucket, key, capacity, rate, expiresAt, held);
    }

    public async ValueTask<IReadOnlyList<TokenBucketClientOverride>> GetOverridesAsync(CancellationToken cancellationToken = default)
    {
        StoredClientOverrides stored;
        try
        {
            stored = await limiter.Overrides.Store.LoadAsync().WaitAsync(s_storeTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            throw new TokenBucketStoreUnavailableException($"The client overrides could not be read from the store: {e.Message}", e);
        }
        var now = time.GetUtcNow();
        var overrides = new List<TokenBucketClientOverride>(stored.Entries.Count);
        foreach (var entry in stored.Entries)
        {
            if (entry.ExpiresAt > now)
            {
                overrides.Add(new TokenBucketClientOverride(entry.Bucket, entry.Key, entry.Capacity, entry.Rate, entry.ExpiresAt));
            }
        }
        overrides.Sort(static (a, b) =>
        {
            var byBucket = string.CompareOrdinal(a.Bucket, b.Bucket);
            return byBucket != 0 ? byBucket : string.CompareOrdinal(a.Key, b.Key);
        });
        return overrides;
    }

    public async ValueTask<bool> RemoveOverrideAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        // Not looked up among the buckets: an override outlives a bucket renamed or removed since, and can still go.
        ArgumentNullException.ThrowIfNull(bucket);
        ArgumentNullException.ThrowIfNull(key);
        var now = time.GetUtcNow();
        var removed = await WriteAsync(store => store.RemoveAsync(bucket, key, now),
            $"The override of client '{key}' on bucket '{bucket}' could not be removed from the store", cancellationToken).ConfigureAwait(false);
        if (removed)
        {
            Log.ClientOverrideRemoved(logger, bucket, key);
        }
        return removed;
    }

    // One write to the override store, then this instance applies the store's overrides at once; the others do within
    // a second. A write that times out may still be made: the operator sees the failure and can read the overrides.
    private async Task<T> WriteAsync<T>(Func<IClientOverrideStore, Task<T>> write, string failure, CancellationToken cancellationToken)
    {
        T result;
        try
        {
            result = await write(limiter.Overrides.Store).WaitAsync(s_storeTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            throw new TokenBucketStoreUnavailableException($"{failure}: {e.Message}", e);
        }
        try
        {
            await limiter.Overrides.RefreshAsync().WaitAsync(s_storeTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStoreFailure(e, cancellationToken))
        {
            // Written, but not read back: this instance's poll applies it as soon as the store answers again.
        }
        return result;
    }

    // The declared policy of a known bucket (null for a name declared without a shape), or an exception that names the
    // buckets there are.
    private TokenBucketPolicy? Find(string bucket)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        if (known.TryGetPolicy(bucket, out var policy))
        {
            return policy;
        }
        var names = known.Names;
        var message = names.Count == 0
            ? $"There is no bucket '{bucket}': this app declares no token buckets yet (endpoints' limits are known once the app has started)."
            : EditDistance.Closest(names, bucket, ignoreCase: false) is { } closest
                ? $"There is no bucket '{bucket}'. Did you mean '{closest}'? Bucket names are case-sensitive, as rate-limit headers give them."
                : $"There is no bucket '{bucket}'. The buckets are: {string.Join(", ", names.Select(n => $"'{n}'"))}.";
        throw new UnknownTokenBucketException(bucket, message);
    }

    // The store says it cannot be reached (TokenBucketStoreUnavailableException), or does not answer in time.
    private static bool IsStoreFailure(Exception e, CancellationToken cancellationToken) =>
        e is TokenBucketStoreUnavailableException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);
}
