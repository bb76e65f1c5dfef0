using Yarp.ReverseProxy.Configuration;

namespace RateGuard.Yarp;

/// <summary>
/// Checks every route's token-bucket limits each time YARP loads its configuration. A limit that throws here stops the
/// app at startup; on a reload YARP logs the error and keeps the configuration it had, limits included, because it
/// applies a reload only when every route passes its filters.
/// </summary>
internal sealed class TokenBucketRouteConfigFilter : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => new(cluster);

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        RouteTokenBucketLimits.Parse(route);
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
