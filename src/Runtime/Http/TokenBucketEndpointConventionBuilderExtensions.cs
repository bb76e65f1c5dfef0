using Microsoft.AspNetCore.Routing;
using RateGuard;
using RateGuard.Http.Sharing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Attaches token-bucket limits to endpoints and route groups without attributes.</summary>
public static class TokenBucketEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Limits the endpoint, or the endpoints of the group, with a token bucket. On one endpoint it is exactly
    /// <c>[TokenBucket(capacity, rate, Key = key, Cost = cost, Bucket = bucket)]</c>. On a route group it is one bucket
    /// per key that every endpoint of the group (nested groups included) draws from, named after the group's prefix,
    /// as ASP.NET Core's rate-limiting policy on a group shares one partition; <paramref name="perEndpoint"/> gives each
    /// endpoint a bucket of its own instead. Constant arguments are seen and checked at compile time.
    /// </summary>
    /// <param name="builder">The endpoint or route group.</param>
    /// <param name="capacity">The most tokens the bucket holds: the largest burst. At least 1.</param>
    /// <param name="rate">Tokens added per second; fractions such as <c>0.5</c> are allowed. Above 0.</param>
    /// <param name="key">What separates one client's bucket from another's, as <see cref="TokenBucketAttribute.Key"/>.</param>
    /// <param name="cost">Tokens one request takes.</param>
    /// <param name="bucket">A bucket name shared by every endpoint that uses it, as <see cref="TokenBucketAttribute.Bucket"/>.</param>
    /// <param name="perEndpoint">On a group: a bucket for each endpoint rather than one for the group. Not with <paramref name="bucket"/>.</param>
    /// <param name="plan">Where the caller's plan is read from, as <see cref="TokenBucketAttribute.Plan"/>.</param>
    /// <param name="count">Which responses the bucket counts, as <see cref="TokenBucketAttribute.Count"/>: <c>"failures"</c>, say.</param>
    /// <param name="maxCost">The most a request may be charged once its handler reports its actual cost, as <see cref="TokenBucketAttribute.MaxCost"/>.</param>
    public static TBuilder RequireTokenBucket<TBuilder>(this TBuilder builder, int capacity, double rate, string key = TokenBucketKey.Ip, int cost = 1, string? bucket = null, bool perEndpoint = false, string? plan = null, string? count = null, int maxCost = 0)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var attribute = new TokenBucketAttribute(capacity, rate) { Key = key, Cost = cost, Bucket = bucket, PerEndpoint = perEndpoint, Plan = plan, Count = count, MaxCost = maxCost };
        // The 429 response is described to API Explorer by TokenBucketApiDescriptionProvider, which also sees a later
        // DisableTokenBucket; a ProducesResponseType here could not be taken back by one.
        if (builder is RouteGroupBuilder group && bucket is null && !perEndpoint)
        {
            var shared = GroupLimit.On(group, attribute);
            builder.Add(endpoint =>
            {
                endpoint.Metadata.Add(attribute);
                endpoint.Metadata.Add(shared);
            });
        }
        else
        {
            builder.Add(endpoint => endpoint.Metadata.Add(attribute));
        }
        return builder;
    }

    /// <summary>
    /// Limits the endpoint, or the endpoints of the group, with the limit declared as
    /// <c>[assembly: TokenBucketLimit(limit, ...)]</c>: exactly <c>[TokenBucket(limit)]</c>. Its one bucket, named
    /// <paramref name="limit"/>, is shared by every endpoint, group and controller that uses the limit. An unknown name
    /// stops the app at startup, naming the declared limits.
    /// </summary>
    /// <param name="builder">The endpoint or route group.</param>
    /// <param name="limit">The name of a limit declared with <see cref="TokenBucketLimitAttribute"/>.</param>
    public static TBuilder RequireTokenBucket<TBuilder>(this TBuilder builder, string limit)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(limit);
        var attribute = new TokenBucketAttribute(limit);
        builder.Add(endpoint => endpoint.Metadata.Add(attribute));
        return builder;
    }

    /// <summary>Opts the endpoint out of the token buckets it inherits from its group, as <c>[DisableTokenBucket]</c> does.</summary>
    public static TBuilder DisableTokenBucket<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Add(endpoint => endpoint.Metadata.Add(new DisableTokenBucketAttribute()));
        return builder;
    }
}
