using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace RateGuard.Yarp;

/// <summary>
/// The resolver type a route limit keyed <c>resolver:&lt;name&gt;</c> names in its <see cref="TokenBucketAttribute"/>:
/// it calls the resolver registered under the name the request's endpoint carries (<see cref="RouteKeyResolverName"/>).
/// The attribute can only name a type, and a route's resolver is known by name only once configuration is read.
/// </summary>
internal sealed class NamedRouteKeyResolver(RouteKeyResolvers resolvers, IServiceProvider services) : ITokenBucketKeyResolver
{
    private readonly RouteKeyResolvers _resolvers = resolvers;
    private readonly IServiceProvider _services = services;
    private readonly ConcurrentDictionary<string, ITokenBucketKeyResolver> _created = new(StringComparer.Ordinal);

    public string? ResolveKey(HttpContext context)
    {
        // The configuration filter let only registered names through, so a route that reached a request has one.
        if (context.GetEndpoint()?.Metadata.GetMetadata<RouteKeyResolverName>() is not { } name)
        {
            return null;
        }
        var resolver = _created.TryGetValue(name.Name, out var known) ? known : _created.GetOrAdd(name.Name, static (n, self) => self._resolvers.Create(n, self._services), this);
        return resolver.ResolveKey(context);
    }
}
