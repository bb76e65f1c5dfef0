namespace RateGuard.Clients;

/// <summary>The overrides a store holds, as read at once with the version they are at.</summary>
/// <param name="Version">The store's version when they were read (<see cref="IClientOverrideStore.VersionAsync"/>).</param>
/// <param name="Entries">Every override, expired or not.</param>
internal sealed record StoredClientOverrides(long Version, IReadOnlyList<ClientOverride> Entries);
