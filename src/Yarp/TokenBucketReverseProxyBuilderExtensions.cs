using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RateGuard;
using RateGuard.Yarp;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers RateGuard's checks of the token-bucket limits written in YARP routes, and the transform that charges the
/// costs upstreams report.
/// </summary>
public static class TokenBucketReverseProxyBuilderExtensions
{
    /// <summary>
    /// Checks the token-bucket limits in every route's <c>Metadata</c> whenever the proxy configuration loads:
    /// <c>TokenBucket.Capacity</c>, <c>TokenBucket.Rate</c>, <c>TokenBucket.Cost</c>, <c>TokenBucket.Key</c> (or Spring
    /// Cloud Gateway's <c>redis-rate-limiter.burstCapacity</c>, <c>redis-rate-limiter.replenishRate</c>,
    /// <c>redis-rate-limiter.requestedTokens</c> and <c>key-resolver</c>), <c>TokenBucket.Bucket</c>,
    /// <c>TokenBucket.Plan</c>, <c>TokenBucket.Count</c> and <c>TokenBucket.MaxCost</c>, and further limits as
    /// <c>TokenBucket.&lt;label&gt;.Capacity</c> and so on; or <c>TokenBucket.Limit</c>, the name of a limit declared in
    /// code with <c>[assembly: TokenBucketLimit]</c>, which shares its one bucket with every other use of the name.
    /// </summary>
    /// <remarks>
    /// <para>
    /// A route may also name <c>TokenBucket.ChargeHeader</c>, a response header in which its upstream reports what a
    /// request actually cost (<c>X-Tokens-Used</c> from an LLM backend, say); it needs a limit of the route with
    /// <c>TokenBucket.MaxCost</c>. Once the upstream answers, a response transform registered here charges that cost as
    /// <c>HttpContext.ChargeTokens</c> would, when the value is a finite number of tokens, not negative; any other value
    /// charges nothing and is logged once per route. The header is left on the response to the client.
    /// </para>
    /// <para>
    /// An invalid limit at startup stops the app with a message naming the route, the key, the value, the rule and the
    /// fix. An invalid limit in a reload makes YARP log the error and keep the previous configuration whole. Enforce
    /// the limits with <c>app.MapReverseProxy().WithTokenBuckets()</c> after <c>app.UseTokenBuckets()</c>, and register
    /// RateGuard itself with <c>services.AddTokenBuckets(...)</c>.
    /// </para>
    /// </remarks>
    /// <param name="builder">The reverse proxy's builder.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IReverseProxyBuilder AddTokenBuckets(this IReverseProxyBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Once, however often it is called: a second registration would check every route twice.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IProxyConfigFilter, TokenBucketRouteConfigFilter>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ITransformProvider, ChargeHeaderTransformProvider>());
        Resolvers(builder.Services);
        builder.Services.TryAddSingleton(static services => new NamedRouteKeyResolver(services.GetRequiredService<RouteKeyResolvers>(), services));
        return builder;
    }

    /// <summary>
    /// Registers <typeparamref name="TResolver"/> under <paramref name="name"/>, so a route's limit can be keyed by it
    /// in configuration: <c>"TokenBucket.Key": "resolver:&lt;name&gt;"</c> (or Spring Cloud Gateway's
    /// <c>key-resolver</c>). The resolver is taken from DI when registered there, and registered as a singleton
    /// otherwise. A route's limits may name one resolver between them.
    /// </summary>
    /// <typeparam name="TResolver">The resolver.</typeparam>
    /// <param name="builder">The reverse proxy's builder.</param>
    /// <param name="name">The name routes use: letters, digits, '.', '_' and '-'.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IReverseProxyBuilder AddTokenBucketKeyResolver<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TResolver>(this IReverseProxyBuilder builder, string name)
        where TResolver : class, ITokenBucketKeyResolver
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!RouteKeyResolvers.IsValidName(name))
        {
            throw new ArgumentException($"The key resolver name '{name}' may hold only letters, digits, '.', '_' and '-', as a route writes it after 'resolver:'.", nameof(name));
        }
        builder.AddTokenBuckets();
        builder.Services.TryAddSingleton<TResolver>();
        Resolvers(builder.Services).Add(name, static services => services.GetRequiredService<TResolver>());
        return builder;
    }

    // The names, kept in the service collection as they are registered, so every route's check sees all of them.
    private static RouteKeyResolvers Resolvers(IServiceCollection services)
    {
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(RouteKeyResolvers) && descriptor.ImplementationInstance is RouteKeyResolvers existing)
            {
                return existing;
            }
        }
        var resolvers = new RouteKeyResolvers();
        services.AddSingleton(resolvers);
        return resolvers;
    }
}
