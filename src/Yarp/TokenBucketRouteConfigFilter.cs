using Yarp.ReverseProxy.Configuration;

namespace RateGuard.Yarp;

/// <summary>
/// Checks every route's token-bucket limits, and its charge header, each time YARP loads its configuration. A limit that throws here stops the
/// app at startup; on a reload YARP logs the error and keeps the configuration it had, limits included, because it
/// applies a reload only when every route passes its filters.
/// </summary>
internal sealed class TokenBucketRouteConfigFilter(RouteKeyResolvers resolvers) : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => new(cluster);

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        string? resolver = null;
        var limits = RouteTokenBucketLimits.Parse(route);
        RouteChargeHeader.Parse(route, limits);
        foreach (var limit in limits)
        {
            if (RouteTokenBucketLimits.ResolverName(limit) is not { } name)
            {
                continue;
            }
            if (!resolvers.Contains(name))
            {
                var registered = resolvers.Names.Count == 0 ? "none is registered" : "the registered ones are " + string.Join(", ", resolvers.Names.Order(StringComparer.Ordinal).Select(n => $"'{n}'"));
                throw new InvalidOperationException(
                    $"Route '{route.RouteId}': its limit is keyed by the resolver '{name}', but no key resolver has that name ({registered}). Register it with services.AddReverseProxy().AddTokenBuckets().AddTokenBucketKeyResolver<YourResolver>(\"{name}\").");
            }
            // The endpoint carries one resolver name, which every limit of the route keyed by a resolver shares.
            if (resolver is not null && resolver != name)
            {
                throw new InvalidOperationException(
                    $"Route '{route.RouteId}': its limits are keyed by two resolvers, '{resolver}' and '{name}'; a route's limits may name one resolver between them. Key the others by a built-in form, or split the route.");
            }
            resolver = name;
        }
        // Mark the route as checked, so the endpoint convention can tell that this filter is registered.
        // The copy compares keys as the original does (configuration's are case-insensitive), so whoever reads the
        // route's metadata later finds what it found before; an unknown dictionary is copied case-sensitively, which
        // loses no key.
        var metadata = new Dictionary<string, string>((route.Metadata as Dictionary<string, string>)?.Comparer ?? StringComparer.Ordinal);
        foreach (var (key, value) in route.Metadata ?? new Dictionary<string, string>())
        {
            metadata[key] = value;
        }
        metadata[RouteMetadataKeys.Checked] = "true";
        return new(route with { Metadata = metadata });
    }
}
