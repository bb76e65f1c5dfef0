namespace RateGuard.Operations;

/// <summary>
/// What an operator needs once limits are live: a client's bucket as it stands, a reset that every instance honours,
/// who is being rejected, and the state of the store. Resolve it from DI after <c>AddTokenBuckets</c>.
/// </summary>
/// <remarks>
/// Buckets are named as they are in rate-limit headers, logs and configuration, and keys are the client values as the
/// limit reads them (an IP address, a user name, a header's value): each goes through the same key composition as a
/// request, so the bucket inspected or reset is the one that request would use.
/// </remarks>
public interface ITokenBucketOperations
{
    /// <summary>
    /// Every bucket this app has declared or used, in name order, with its configured shape and what this instance
    /// decided for it recently.
    /// </summary>
    IReadOnlyList<TokenBucketSummary> GetBuckets();

    /// <summary>Each store server's circuit, as this instance sees it.</summary>
    IReadOnlyList<StoreServerState> GetServers();

    /// <summary>
    /// How many app instances share the limits, as this instance counts them: <c>TokenBuckets:InstanceCount</c> when
    /// set, else the instances whose heartbeats Redis holds, else 1. While the store cannot decide, a bucket with failure
    /// mode Open gets this share of its capacity and rate on each instance.
    /// </summary>
    int GetInstanceCount();

    /// <summary>
    /// The clients this instance rejected most often on <paramref name="bucket"/> over the last
    /// <see cref="TokenBucketActivity.Window"/>, by the rejections counted for each, most first. A count is a lower
    /// bound, and <see cref="RejectedClient.Uncertain"/> says how many more there may have been.
    /// </summary>
    /// <exception cref="UnknownTokenBucketException">No bucket of that name is declared or used.</exception>
    IReadOnlyList<RejectedClient> GetTopRejected(string bucket, int count = 10);

    /// <summary>
    /// The bucket of <paramref name="key"/> in <paramref name="bucket"/> as the store holds it now: tokens, capacity,
    /// rate and time to full. Takes nothing.
    /// </summary>
    /// <exception cref="UnknownTokenBucketException">No bucket of that name is declared or used.</exception>
    /// <exception cref="TokenBucketStoreUnavailableException">The store could not be read.</exception>
    ValueTask<TokenBucketState> InspectAsync(string bucket, string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes the bucket of <paramref name="key"/> in <paramref name="bucket"/> full again on every instance: the stored
    /// bucket is removed, and every instance forgets what it remembered of it (its deny cache entry, its local
    /// fallback's share), so the client's next request is decided against a full bucket wherever it arrives.
    /// </summary>
    /// <exception cref="UnknownTokenBucketException">No bucket of that name is declared or used.</exception>
    /// <exception cref="TokenBucketStoreUnavailableException">The store could not be written.</exception>
    ValueTask ResetAsync(string bucket, string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gives the client <paramref name="key"/> of <paramref name="bucket"/> its own capacity and rate until
    /// <paramref name="expiresAfter"/> has passed, on every instance: the override is kept in the store, and each
    /// instance applies it within a second, with no extra store call per request. Replaces an earlier override of
    /// that client. It takes precedence over the client's plan; the client keeps its bucket.
    /// </summary>
    /// <remarks>
    /// The capacity and rate follow the rules of every limit, and the capacity holds at least one request of the
    /// bucket; an override lasts at most 365 days; a client value has 1 to 1,024 characters. With the in-memory store,
    /// or a store of the app's own, overrides are kept in this process and apply to this instance only.
    /// </remarks>
    /// <exception cref="UnknownTokenBucketException">No bucket of that name is declared or used.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or longer than 1,024 characters.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The capacity, rate or expiry is out of range.</exception>
    /// <exception cref="InvalidOperationException">The store already holds <see cref="TokenBucketOptions.MaxOverrides"/>
    /// overrides that have not expired, and this one is not a replacement.</exception>
    /// <exception cref="TokenBucketStoreUnavailableException">The store could not be written.</exception>
    ValueTask SetOverrideAsync(string bucket, string key, int capacity, double rate, TimeSpan expiresAfter, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not set client overrides.");

    /// <summary>Every client override that has not expired, as the store holds them, by bucket and key.</summary>
    /// <exception cref="TokenBucketStoreUnavailableException">The store could not be read.</exception>
    ValueTask<IReadOnlyList<TokenBucketClientOverride>> GetOverridesAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not keep client overrides.");

    /// <summary>
    /// Removes the override of <paramref name="key"/> on <paramref name="bucket"/>, on every instance within a second.
    /// The bucket need not be in use any more: an override outlives a bucket renamed or removed since.
    /// </summary>
    /// <returns>Whether there was one that had not expired.</returns>
    /// <exception cref="TokenBucketStoreUnavailableException">The store could not be written.</exception>
    ValueTask<bool> RemoveOverrideAsync(string bucket, string key, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not remove client overrides.");
}
