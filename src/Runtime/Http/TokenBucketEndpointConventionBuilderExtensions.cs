using RateGuard;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Attaches token-bucket limits to endpoints and route groups without attributes.</summary>
public static class TokenBucketEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Limits the endpoint, or every endpoint of the group, with a token bucket. Exactly equivalent to
    /// <c>[TokenBucket(capacity, rate, Key = key, Cost = cost, Bucket = bucket)]</c>; constant arguments are seen
    /// and checked at compile time.
    /// </summary>
    public static TBuilder RequireTokenBucket<TBuilder>(this TBuilder builder, int capacity, double rate, string key = TokenBucketKey.Ip, int cost = 1, string? bucket = null)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var attribute = new TokenBucketAttribute(capacity, rate) { Key = key, Cost = cost, Bucket = bucket };
        // The 429 response is described to API Explorer by TokenBucketApiDescriptionProvider, which also sees a later
        // DisableTokenBucket; a ProducesResponseType here could not be taken back by one.
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
