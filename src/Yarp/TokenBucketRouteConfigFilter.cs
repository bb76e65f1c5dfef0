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
        var metadata = route.Metadata is null
            ? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            : new Dictionary<string, string>(route.Metadata, StringComparer.OrdinalIgnoreCase);
        metadata[RouteMetadataKeys.Checked] = "true";
        return new(route with { Metadata = metadata });
    }
}
