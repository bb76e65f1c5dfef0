using RateGuard.Yarp;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Applies the token-bucket limits written in YARP routes to the proxy's endpoints.</summary>
public static class TokenBucketReverseProxyConventionBuilderExtensions
{
    /// <summary>
    /// Gives each proxy endpoint the <see cref="RateGuard.TokenBucketAttribute"/> metadata its route's limits describe,
    /// so <c>app.UseTokenBuckets()</c> enforces them as it enforces <c>[TokenBucket]</c> on any endpoint: the same
    /// responses, headers, metrics and failure modes. YARP rebuilds its endpoints when its configuration reloads, and
    /// the limits follow.
    /// </summary>
    /// <param name="builder">The builder <c>MapReverseProxy()</c> returned.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="InvalidOperationException">
    /// Thrown when the proxy endpoints are built, which <c>app.UseTokenBuckets()</c> does as the app starts, if
    /// <c>AddTokenBuckets()</c> was not called on the reverse proxy's builder: without its check an invalid limit in a
    /// reload would not be refused.
    /// </exception>
    public static ReverseProxyConventionBuilder WithTokenBuckets(this ReverseProxyConventionBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigureEndpoints((endpoint, route) =>
        {
            if (route.Metadata?.ContainsKey(RouteMetadataKeys.Checked) != true)
            {
                throw new InvalidOperationException(
                    $"MapReverseProxy().WithTokenBuckets() found route '{route.RouteId}' unchecked: call AddTokenBuckets() on the reverse proxy's builder, as in services.AddReverseProxy().LoadFromConfig(...).AddTokenBuckets(), so that every route's limits are checked when the configuration loads and reloads.");
            }
            var limits = RouteTokenBucketLimits.Parse(route);
            if (limits.Count == 0)
            {
                return;
            }
            endpoint.Add(endpointBuilder =>
            {
                foreach (var limit in limits)
                {
                    endpointBuilder.Metadata.Add(limit);
                    if (RouteTokenBucketLimits.ResolverName(limit) is { } resolver)
                    {
                        // Added once per limit; the filter made sure every one names the same resolver.
                        endpointBuilder.Metadata.Add(new RouteKeyResolverName(resolver));
                    }
                }
            });
        });
        return builder;
    }
}
