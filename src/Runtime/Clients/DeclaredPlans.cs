using Microsoft.Extensions.DependencyInjection;
using RateGuard.Configuration;

namespace RateGuard.Clients;

/// <summary>
/// What code and configuration say of each bucket's clients: its plans (code declares them with
/// <c>AddTokenBucketPlans</c>; configuration under <c>TokenBuckets:Buckets:&lt;bucket&gt;:Plans</c> replaces any value
/// it sets), and the key values it exempts or denies (both lists together).
/// </summary>
internal sealed class DeclaredPlans
{
    private readonly Dictionary<string, TokenBucketPlanBuilder> _inCode = new(StringComparer.Ordinal);

    public DeclaredPlans(IEnumerable<TokenBucketPlanBuilder> declared)
    {
        foreach (var plans in declared)
        {
            if (!_inCode.TryGetValue(plans.Bucket, out var merged))
            {
                _inCode[plans.Bucket] = plans;
                continue;
            }
            // AddTokenBucketPlans called twice for one bucket: one set of plans, and a plan named twice is a mistake.
            foreach (var (name, plan) in plans.Plans)
            {
                if (!merged.Plans.TryAdd(name, plan))
                {
                    throw new InvalidOperationException($"Plan '{name}' of bucket '{plans.Bucket}' is declared twice with AddTokenBucketPlans.");
                }
            }
            merged.Exempted.AddRange(plans.Exempted);
            merged.Denied.AddRange(plans.Denied);
        }
    }

    public static DeclaredPlans From(IServiceProvider services) => new(services.GetServices<TokenBucketPlanBuilder>());

    /// <summary>The buckets code declares plans, exemptions or denials for.</summary>
    public IEnumerable<string> Buckets => _inCode.Keys;

    /// <summary>
    /// The plans of <paramref name="bucket"/> under <paramref name="options"/>, each value from configuration where it
    /// sets one and from code otherwise; empty when neither declares any.
    /// </summary>
    public Dictionary<string, TokenBucketPlan> PlansOf(string bucket, TokenBucketOptions options)
    {
        var plans = new Dictionary<string, TokenBucketPlan>(StringComparer.Ordinal);
        _inCode.TryGetValue(bucket, out var code);
        BucketNames.TryGetOverride(options.Buckets, bucket, out var configured);
        if (code is not null)
        {
            foreach (var (name, plan) in code.Plans)
            {
                plans[name] = new TokenBucketPlan { Capacity = plan.Capacity, Rate = plan.Rate, Unlimited = plan.Unlimited };
            }
        }
        if (configured is not null)
        {
            foreach (var (name, plan) in configured.Plans)
            {
                var merged = plans.TryGetValue(name, out var fromCode) ? fromCode : plans[name] = new TokenBucketPlan();
                merged.Capacity = plan.Capacity ?? merged.Capacity;
                merged.Rate = plan.Rate ?? merged.Rate;
                merged.Unlimited = plan.Unlimited ?? merged.Unlimited;
            }
        }
        return plans;
    }

    /// <summary>The key values <paramref name="bucket"/> exempts, from code and configuration.</summary>
    public IEnumerable<string> ExemptOf(string bucket, TokenBucketOptions options) =>
        Both(_inCode.TryGetValue(bucket, out var code) ? code.Exempted : null, BucketNames.TryGetOverride(options.Buckets, bucket, out var o) ? o.Exempt : null);

    /// <summary>The key values <paramref name="bucket"/> denies, from code and configuration.</summary>
    public IEnumerable<string> DenyOf(string bucket, TokenBucketOptions options) =>
        Both(_inCode.TryGetValue(bucket, out var code) ? code.Denied : null, BucketNames.TryGetOverride(options.Buckets, bucket, out var o) ? o.Deny : null);

    private static IEnumerable<string> Both(List<string>? code, List<string>? configured) =>
        (code ?? []).Concat(configured ?? []);
}
