namespace RateGuard.Clients;

/// <summary>
/// Where client overrides are kept: in Redis beside the buckets, so that every instance reads the same ones, or in
/// this process (<see cref="LocalClientOverrideStore"/>). Each instance holds a copy in <see cref="ClientOverrides"/>,
/// which <see cref="ClientOverrideSync"/> keeps equal to the store's; requests never call the store for them.
/// </summary>
/// <remarks>
/// Expiry times are absolute, on the clock of the instance that writes. Every write first removes the overrides that
/// have expired, so they neither count against the bound nor stay in the store.
/// </remarks>
internal interface IClientOverrideStore
{
    /// <summary>A number that changes whenever the overrides change: cheap to read, so every instance polls it.</summary>
    /// <exception cref="Operations.TokenBucketStoreUnavailableException">The store could not be read.</exception>
    Task<long> VersionAsync();

    /// <summary>Every override the store holds, expired or not, with the version they are at.</summary>
    /// <exception cref="Operations.TokenBucketStoreUnavailableException">The store could not be read.</exception>
    Task<StoredClientOverrides> LoadAsync();

    /// <summary>
    /// Keeps <paramref name="entry"/>, in place of an earlier override of its client on its bucket, unless that would
    /// make the store hold more than <paramref name="max"/> overrides that have not expired at <paramref name="now"/>.
    /// </summary>
    /// <returns>Whether it was kept, and how many overrides the store holds afterwards.</returns>
    /// <exception cref="Operations.TokenBucketStoreUnavailableException">The store could not be written.</exception>
    Task<(bool Kept, int Held)> SetAsync(ClientOverride entry, int max, DateTimeOffset now);

    /// <summary>
    /// Calls <paramref name="changed"/> when another instance has changed the overrides, sooner than the next poll
    /// would tell, until the returned object is disposed. A store in this process has no other instance to hear.
    /// </summary>
    IDisposable OnChanged(Action changed);

    /// <summary>Removes the override of <paramref name="key"/> on <paramref name="bucket"/>.</summary>
    /// <returns>Whether there was one that had not expired at <paramref name="now"/>.</returns>
    /// <exception cref="Operations.TokenBucketStoreUnavailableException">The store could not be written.</exception>
    Task<bool> RemoveAsync(string bucket, string key, DateTimeOffset now);
}
