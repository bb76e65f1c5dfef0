namespace RateGuard;

/// <summary>The <c>[TokenBucket]</c> limits in force on an endpoint, as the gate table, its API description and its OpenAPI and Swashbuckle header descriptions read them.</summary>
internal static class EndpointLimits
{
    /// <summary>
    /// The limits in <paramref name="metadata"/>, in order, after the rule the request path applies: a
    /// <c>[DisableTokenBucket]</c> removes every limit declared before it (those of the controller or the route group).
    /// Empty when the endpoint is not limited.
    /// </summary>
    public static List<TokenBucketAttribute> InForce(IEnumerable<object> metadata)
    {
        var limits = new List<TokenBucketAttribute>();
        foreach (var item in metadata)
        {
            if (item is DisableTokenBucketAttribute)
            {
                limits.Clear();
            }
            else if (item is TokenBucketAttribute limit)
            {
                limits.Add(limit);
            }
        }
        return limits;
    }
}
