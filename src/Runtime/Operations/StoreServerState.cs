using RateGuard.Limiting;

namespace RateGuard.Operations;

/// <summary>One store server's circuit, as this instance sees it.</summary>
/// <param name="Server">The server (<c>host:port</c>), or the store's name for a store without servers.</param>
/// <param name="Circuit">Closed while it answers; open while requests go to the failure mode or local fallback.</param>
public sealed record StoreServerState(string Server, CircuitState Circuit);
