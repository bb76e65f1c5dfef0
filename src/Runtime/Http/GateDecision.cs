using RateGuard.CompilerServices;

namespace RateGuard.Http;

/// <summary>A decision together with the gate that made it, so headers never pair one bucket's numbers with another's name.</summary>
internal readonly record struct GateDecision(ConfiguredGate Gate, RateLimitDecision Decision);
