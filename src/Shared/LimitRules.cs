namespace RateGuard;

/// <summary>
/// How to write a valid limit, one sentence per rule, for every message that refuses one: the analyzer's diagnostics,
/// the policy's exceptions, the validation of configuration and the gateway's route reader all take the rule from here,
/// so a rule reads the same wherever a limit is written. Each message names what is invalid in its own terms (an
/// attribute argument, a configuration key, route metadata) and then gives the rule.
/// </summary>
/// <remarks>
/// Constants, so that a diagnostic descriptor's message can be built from them at compile time. The limits they state
/// are <see cref="TokenBucketLimits"/>'s: a test keeps the two in step.
/// </remarks>
internal static class LimitRules
{
    /// <summary>The rule of <see cref="TokenBucketLimits.IsValidCapacity"/>.</summary>
    public const string Capacity = "a capacity is a whole number of tokens, at least 1: the largest burst the bucket admits";

    /// <summary>The rule of <see cref="TokenBucketLimits.IsValidRate"/>.</summary>
    public const string Rate = "a rate is the tokens added per second: a number above 0 and at most 1,000,000, one token per microsecond";

    /// <summary>The rule of <see cref="TokenBucketLimits.IsValidWindow"/>.</summary>
    public const string Window = "an empty bucket must fill within 100 years (its capacity divided by its rate): raise the rate or lower the capacity";

    /// <summary>The rule of <see cref="TokenBucketLimits.IsValidCost"/>.</summary>
    public const string Cost = "a cost is the whole number of tokens one request takes, at least 1";

    /// <summary>The rule that a cost fits in its bucket's capacity.</summary>
    public const string CostWithinCapacity = "a request cannot take more tokens than its bucket holds, or every request would be rejected: lower the cost or raise the capacity";

    /// <summary>The rule of <see cref="TokenBucketLimits.IsValidMaxCost"/>.</summary>
    public const string MaxCost = "a maximum cost is the most tokens one request may be charged once its handler reports its actual cost: 0 for none, else at least the cost taken up front, and paid back within 100 years at the bucket's rate";

    /// <summary>The rule of <see cref="TokenBucketCount.TryParse"/>.</summary>
    public const string Count = "a count says which responses the bucket counts: " + TokenBucketCount.ValidForms;

    /// <summary>The rule of <see cref="TokenBucketLimits.IsValidBucketName"/>, for names declared in code.</summary>
    public const string DeclaredBucketName = "a bucket name declared in code is 1 to 100 letters, digits or '.', '_', '-', '/'";

    /// <summary>The rule that a limit is either named, and so shared by name, or each endpoint's own.</summary>
    public const string PerEndpointOrBucket = "a limit either names the one bucket every endpoint using it shares (Bucket), or gives each endpoint a bucket of its own (PerEndpoint), not both";

    /// <summary>The rule that controllers with limits use endpoint routing, which legacy routing (UseMvc) bypasses.</summary>
    public const string EndpointRouting = "controllers with limits need endpoint routing: remove EnableEndpointRouting = false, and map them with app.MapControllers() (or app.MapControllerRoute(...) for conventional routes) in place of app.UseMvc()";

    /// <summary>The rule that a limit used by name is the limit its declaration states, whole.</summary>
    public const string NamedLimitAlone = "a limit used by name takes its capacity, rate, key, cost, bucket, plan and counting from its declaration ([assembly: TokenBucketLimit]): set them there, not where it is used";

    /// <summary>The rule that one name declares one limit.</summary>
    public const string LimitDeclaredOnce = "a name declares one limit: keep one [assembly: TokenBucketLimit] of that name, or rename one of them";

    /// <summary>The rule of every bucket name, those derived from routes and given in configuration included.</summary>
    public const string BucketName = "a bucket name is 1 to 100 printable ASCII characters other than ':', not starting or ending with a space";

    /// <summary>The rule of a key prefix, the first segment of every Redis key.</summary>
    public const string KeyPrefix = "a key prefix is 1 to 100 letters, digits or '.', '_', '-', '/'";
}
