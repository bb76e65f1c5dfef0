namespace RateGuard.Yarp;

/// <summary>
/// The names a YARP route's <c>Metadata</c> gives its token-bucket limits: RateGuard's own, and Spring Cloud Gateway's
/// <c>RequestRateLimiter</c> arguments for the unlabelled limit, so a route moved from Spring keeps its words.
/// </summary>
internal static class RouteMetadataKeys
{
    public const string Prefix = "TokenBucket.";
    public const string Capacity = "Capacity";
    public const string Rate = "Rate";
    public const string Cost = "Cost";
    public const string Key = "Key";
    public const string Bucket = "Bucket";

    /// <summary>Where the caller's plan is read from, as <c>TokenBucketAttribute.Plan</c>: a header, claim, route value or query parameter.</summary>
    public const string Plan = "Plan";

    /// <summary>Which responses the limit counts, as <c>TokenBucketAttribute.Count</c>: <c>all</c>, <c>failures</c> or status codes.</summary>
    public const string Count = "Count";

    /// <summary>The most a request may be charged once its actual cost is known, as <c>TokenBucketAttribute.MaxCost</c>.</summary>
    public const string MaxCost = "MaxCost";

    /// <summary>The name of a limit declared in code with <c>[assembly: TokenBucketLimit]</c>, used instead of the others.</summary>
    public const string Limit = "Limit";

    /// <summary>
    /// The response header in which the upstream reports a request's actual cost. It belongs to the route, not to one of
    /// its limits: the cost it reports is charged to every limit of the route that sets a <see cref="MaxCost"/>, so it
    /// is written without a label.
    /// </summary>
    public const string ChargeHeader = "ChargeHeader";

    /// <summary>A key value naming a resolver registered with <c>AddTokenBucketKeyResolver&lt;T&gt;(name)</c>.</summary>
    public const string ResolverPrefix = "resolver:";

    /// <summary>Every property a limit has, in the order messages list them.</summary>
    public static readonly string[] Properties = [Capacity, Rate, Cost, Key, Bucket, Plan, Count, MaxCost, Limit];

    public const string SpringPrefix = "redis-rate-limiter.";
    public const string SpringReplenishRate = "redis-rate-limiter.replenishRate";
    public const string SpringBurstCapacity = "redis-rate-limiter.burstCapacity";
    public const string SpringRequestedTokens = "redis-rate-limiter.requestedTokens";
    public const string SpringKeyResolver = "key-resolver";

    /// <summary>Spring's names and the RateGuard property each stands for.</summary>
    public static readonly (string Spring, string Property)[] SpringNames =
    [
        (SpringBurstCapacity, Capacity),
        (SpringReplenishRate, Rate),
        (SpringRequestedTokens, Cost),
        (SpringKeyResolver, Key),
    ];

    /// <summary>
    /// Set by the configuration filter on every route it has checked. The endpoint convention looks for it, because a
    /// route it did not pass through could reload with limits nothing checked.
    /// </summary>
    public const string Checked = "RateGuard.TokenBuckets.Checked";

    /// <summary>The full name of <paramref name="property"/> for the limit <paramref name="label"/> (null: the unlabelled one).</summary>
    public static string Name(string? label, string property) => label is null ? Prefix + property : Prefix + label + "." + property;
}
