using Microsoft.Extensions.DependencyInjection.Extensions;
using RateGuard.Yarp;
using Yarp.ReverseProxy.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers RateGuard's checks of the token-bucket limits written in YARP routes.</summary>
public static class TokenBucketReverseProxyBuilderExtensions
{
    /// <summary>
    /// Checks the token-bucket limits in every route's <c>Metadata</c> whenever the proxy configuration loads:
    /// <c>TokenBucket.Capacity</c>, <c>TokenBucket.Rate</c>, <c>TokenBucket.Cost</c>, <c>TokenBucket.Key</c> and
    /// <c>TokenBucket.Bucket</c> (or Spring Cloud Gateway's <c>redis-rate-limiter.burstCapacity</c>,
    /// <c>redis-rate-limiter.replenishRate</c>, <c>redis-rate-limiter.requestedTokens</c> and <c>key-resolver</c>),
    /// and further limits as <c>TokenBucket.&lt;label&gt;.Capacity</c> and so on.
    /// </summary>
    /// <remarks>
    /// An invalid limit at startup stops the app with a message naming the route, the key, the value, the rule and the
    /// fix. An invalid limit in a reload makes YARP log the error and keep the previous configuration whole. Enforce
    /// the limits with <c>app.MapReverseProxy().WithTokenBuckets()</c> after <c>app.UseTokenBuckets()</c>, and register
    /// RateGuard itself with <c>services.AddTokenBuckets(...)</c>.
    /// </remarks>
    /// <param name="builder">The reverse proxy's builder.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IReverseProxyBuilder AddTokenBuckets(this IReverseProxyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Once, however often it is called: a second registration would check every route twice.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IProxyConfigFilter, TokenBucketRouteConfigFilter>());
        return builder;
    }
}
