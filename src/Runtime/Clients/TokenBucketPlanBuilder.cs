namespace RateGuard;

/// <summary>
/// Declares in code the plans of one bucket and the clients it exempts or denies, for
/// <c>AddTokenBucketPlans</c>. Configuration under <c>TokenBuckets:Buckets:&lt;bucket&gt;</c> changes a plan's values
/// without a rebuild, and adds to the exempt and deny lists.
/// </summary>
public sealed class TokenBucketPlanBuilder
{
    internal TokenBucketPlanBuilder(string bucket)
    {
        Bucket = bucket;
    }

    /// <summary>The bucket whose plans these are.</summary>
    public string Bucket { get; }

    internal Dictionary<string, TokenBucketPlan> Plans { get; } = new(StringComparer.Ordinal);

    internal List<string> Exempted { get; } = [];

    internal List<string> Denied { get; } = [];

    /// <summary>Callers on plan <paramref name="plan"/> get <paramref name="capacity"/> tokens, refilled at <paramref name="rate"/> per second.</summary>
    /// <exception cref="ArgumentException">The plan is declared twice, or its name is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The capacity or rate is out of range.</exception>
    public TokenBucketPlanBuilder Plan(string plan, int capacity, double rate)
    {
        ThrowIfInvalidPlan(plan);
        // The same checks as a limit's, so a plan that could never be a bucket fails where it is written.
        _ = new TokenBucketPolicy(Bucket, capacity, rate);
        Plans.Add(plan, new TokenBucketPlan { Capacity = capacity, Rate = rate, Unlimited = false });
        return this;
    }

    /// <summary>Callers on plan <paramref name="plan"/> skip this bucket (internal callers, a partner without limits).</summary>
    /// <exception cref="ArgumentException">The plan is declared twice, or its name is empty.</exception>
    public TokenBucketPlanBuilder Unlimited(string plan)
    {
        ThrowIfInvalidPlan(plan);
        Plans.Add(plan, new TokenBucketPlan { Unlimited = true });
        return this;
    }

    /// <summary>Clients with these key values skip this bucket, whatever their plan.</summary>
    public TokenBucketPlanBuilder Exempt(params string[] keys)
    {
        Exempted.AddRange(CheckKeys(keys));
        return this;
    }

    /// <summary>Clients with these key values are refused by this bucket with 403, whatever their plan.</summary>
    public TokenBucketPlanBuilder Deny(params string[] keys)
    {
        Denied.AddRange(CheckKeys(keys));
        return this;
    }

    private void ThrowIfInvalidPlan(string plan)
    {
        ArgumentException.ThrowIfNullOrEmpty(plan);
        if (Plans.ContainsKey(plan))
        {
            throw new ArgumentException($"Plan '{plan}' of bucket '{Bucket}' is declared twice.", nameof(plan));
        }
    }

    private static string[] CheckKeys(string[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var key in keys)
        {
            ArgumentException.ThrowIfNullOrEmpty(key, nameof(keys));
        }
        return keys;
    }
}
