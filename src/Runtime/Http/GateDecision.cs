namespace RateGuard.Http;

/// <summary>
/// A decision together with the gate that made it and the policy it was made by (the client's plan or override, or the
/// gate's own), so headers never pair one bucket's numbers with another's name or limits.
/// </summary>
internal readonly record struct GateDecision(ConfiguredGate Gate, TokenBucketPolicy Policy, RateLimitDecision Decision);
