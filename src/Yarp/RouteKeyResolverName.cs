namespace RateGuard.Yarp;

/// <summary>
/// Endpoint metadata of a proxy route whose limit is keyed by a named resolver: which one
/// <see cref="NamedRouteKeyResolver"/> calls for requests to that route.
/// </summary>
internal sealed record RouteKeyResolverName(string Name);
