using RateGuard.Configuration;
using RateGuard.Limiting;
using RateGuard.Stores;

namespace RateGuard.Operations;

/// <summary>
/// The operations service over the app's limiter: buckets are found by name among those the app declares or has used,
/// and each call goes through the limiter's own key composition and store.
/// </summary>
internal sealed class TokenBucketOperations(TokenBucketLimiter limiter, ConfiguredPolicies configured, CurrentOptions options, KnownBuckets known, TimeProvider time) : ITokenBucketOperations
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
                buckets.Add(new TokenBucketSummary(name, 0, 0, 0, options.Value.FailureModeOf(name), activity));
                continue;
            }
            var (policy, failureMode) = configured.Of(declared);
            buckets.Add(new TokenBucketSummary(name, policy.Capacity, policy.Rate, policy.Cost, failureMode, activity));
        }
        return buckets;
    }

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
