using System.Collections.Generic;
using Microsoft.CodeAnalysis.Operations;

namespace RateGuard.Generator.Analysis;

/// <summary>
/// What the analyzer can tell about the app or route group that endpoints are mapped on: the route prefix it adds,
/// who may call its endpoints, and the endpoints it can see mapped directly on it.
/// </summary>
internal sealed class RouteBuilderSite(string? prefix, RouteAccess access, IReadOnlyList<IInvocationOperation> endpoints)
{
    /// <summary>Anything that is not the app or a group the analyzer can follow, as an endpoint route builder parameter.</summary>
    public static readonly RouteBuilderSite Unknown = new(null, RouteAccess.Unknown, []);

    /// <summary>The full prefix, group prefixes combined, or <see langword="null"/> when a part of it cannot be known.</summary>
    public string? Prefix { get; } = prefix;

    public RouteAccess Access { get; } = access;

    /// <summary>The <c>Map*</c> calls made directly on the group, in the code the analyzer can see.</summary>
    public IReadOnlyList<IInvocationOperation> Endpoints { get; } = endpoints;
}
