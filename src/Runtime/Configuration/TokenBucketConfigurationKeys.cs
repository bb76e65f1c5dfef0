using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace RateGuard.Configuration;

/// <summary>
/// Refuses keys under the <c>TokenBuckets</c> section that no setting reads, such as <c>TokenBuckets:Headrs</c> or
/// <c>TokenBuckets:Buckets:search:Capcity</c>: the binder skips them without a word, and the setting meant keeps its
/// default. Runs wherever the options are built, at startup and on every reload.
/// </summary>
internal sealed class TokenBucketConfigurationKeys(IConfigurationSection section) : IValidateOptions<TokenBucketOptions>
{
    // The settings configuration can bind. OnRejected is code, not configuration. A test keeps this list equal to
    // the public settable properties of TokenBucketOptions.
    internal static readonly string[] Settings =
    [
        nameof(TokenBucketOptions.Enabled), nameof(TokenBucketOptions.Redis), nameof(TokenBucketOptions.RedisCaCertificate), nameof(TokenBucketOptions.KeyPrefix),
        nameof(TokenBucketOptions.Clock), nameof(TokenBucketOptions.InMemorySweepInterval), nameof(TokenBucketOptions.Headers),
        nameof(TokenBucketOptions.RejectionStatusCode), nameof(TokenBucketOptions.MissingKey), nameof(TokenBucketOptions.MissingKeyStatusCode),
        nameof(TokenBucketOptions.FailureMode), nameof(TokenBucketOptions.Mode), nameof(TokenBucketOptions.Timeout), nameof(TokenBucketOptions.BreakerFailureThreshold),
        nameof(TokenBucketOptions.BreakDuration), nameof(TokenBucketOptions.InstanceCount),
        nameof(TokenBucketOptions.DenyCache), nameof(TokenBucketOptions.DenyCacheSize), nameof(TokenBucketOptions.Batching), nameof(TokenBucketOptions.IPv6PrefixLength),
        nameof(TokenBucketOptions.Buckets), nameof(TokenBucketOptions.ExemptNetworks), nameof(TokenBucketOptions.MaxOverrides),
    ];

    // The settings that are lists: sections whose children are the items.
    private static readonly string[] s_lists = [nameof(TokenBucketOptions.ExemptNetworks)];

    // A setting of earlier versions whose behaviour became failure mode Open's: named, so the message can say so.
    private const string RemovedLocalFallback = "LocalFallback";

    internal static readonly string[] BucketSettings =
    [
        nameof(TokenBucketOverride.Capacity), nameof(TokenBucketOverride.Rate), nameof(TokenBucketOverride.FailureMode),
        nameof(TokenBucketOverride.Plans), nameof(TokenBucketOverride.Exempt), nameof(TokenBucketOverride.Deny),
        nameof(TokenBucketOverride.Mode), nameof(TokenBucketOverride.Count), nameof(TokenBucketOverride.MaxCost),
    ];

    internal static readonly string[] PlanSettings =
    [
        nameof(TokenBucketPlan.Capacity), nameof(TokenBucketPlan.Rate), nameof(TokenBucketPlan.Unlimited),
    ];

    public ValidateOptionsResult Validate(string? name, TokenBucketOptions options)
    {
        var path = ((IConfigurationSection)section).Path;
        List<string>? failures = null;
        foreach (var child in section.GetChildren())
        {
            if (string.Equals(child.Key, RemovedLocalFallback, StringComparison.OrdinalIgnoreCase))
            {
                (failures ??= []).Add($"{child.Path} is no longer a setting: failure mode Open, the default, now enforces each instance's share of every limit while Redis cannot decide, as {RemovedLocalFallback}=true did. Remove it; for the earlier default, admitting every request unchecked, set {path}:{nameof(TokenBucketOptions.FailureMode)} to {nameof(FailureMode.AdmitAll)}.");
            }
            else if (Find(Settings, child.Key) is not { } setting)
            {
                (failures ??= []).Add(Unknown(child.Path, child.Key, Settings, "a setting", path));
            }
            else if (setting == nameof(TokenBucketOptions.Buckets))
            {
                foreach (var bucket in child.GetChildren())
                {
                    if (!string.IsNullOrEmpty(bucket.Value) && !bucket.GetChildren().Any())
                    {
                        (failures ??= []).Add($"{bucket.Path} is a value, but a bucket takes settings: {string.Join(", ", BucketSettings.Select(b => $"{bucket.Path}:{b}"))}.");
                    }
                    foreach (var item in bucket.GetChildren())
                    {
                        var bucketSetting = Find(BucketSettings, item.Key);
                        if (bucketSetting is null)
                        {
                            (failures ??= []).Add(Unknown(item.Path, item.Key, BucketSettings, "a bucket setting", bucket.Path));
                        }
                        else if (bucketSetting == nameof(TokenBucketOverride.Plans))
                        {
                            CheckPlans(item, ref failures);
                        }
                        else if (bucketSetting is nameof(TokenBucketOverride.Exempt) or nameof(TokenBucketOverride.Deny))
                        {
                            CheckList(item, ref failures);
                        }
                        else if (item.GetChildren().Any())
                        {
                            (failures ??= []).Add($"{item.Path} takes a value, not a section.");
                        }
                    }
                }
            }
            else if (s_lists.Contains(setting))
            {
                CheckList(child, ref failures);
            }
            else if (child.GetChildren().Any())
            {
                (failures ??= []).Add($"{child.Path} takes a value, not a section.");
            }
        }
        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // Plans:<plan>:Capacity, Rate and Unlimited; a plan is a section of settings, never a value.
    private static void CheckPlans(IConfigurationSection plans, ref List<string>? failures)
    {
        if (!string.IsNullOrEmpty(plans.Value))
        {
            (failures ??= []).Add($"{plans.Path} is a value, but it takes plans: {plans.Path}:<plan>:{string.Join(", ", PlanSettings)}.");
        }
        foreach (var plan in plans.GetChildren())
        {
            if (!string.IsNullOrEmpty(plan.Value) || !plan.GetChildren().Any())
            {
                (failures ??= []).Add($"{plan.Path} is a value, but a plan takes settings: {string.Join(", ", PlanSettings.Select(p => $"{plan.Path}:{p}"))}.");
            }
            foreach (var item in plan.GetChildren())
            {
                if (Find(PlanSettings, item.Key) is null)
                {
                    (failures ??= []).Add(Unknown(item.Path, item.Key, PlanSettings, "a plan setting", plan.Path));
                }
                else if (item.GetChildren().Any())
                {
                    (failures ??= []).Add($"{item.Path} takes a value, not a section.");
                }
            }
        }
    }

    // A list is items 0, 1, 2...; a single value written where the list goes would bind to nothing.
    private static void CheckList(IConfigurationSection list, ref List<string>? failures)
    {
        if (!string.IsNullOrEmpty(list.Value))
        {
            (failures ??= []).Add($"{list.Path} is a list: write its items as {list.Path}:0, {list.Path}:1 and so on.");
        }
        foreach (var item in list.GetChildren())
        {
            if (!int.TryParse(item.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                (failures ??= []).Add($"{item.Path} is not an item of the list {list.Path}: write its items as {list.Path}:0, {list.Path}:1 and so on.");
            }
            else if (item.GetChildren().Any())
            {
                (failures ??= []).Add($"{item.Path} takes a value, not a section.");
            }
        }
    }

    private static string? Find(string[] known, string key)
    {
        foreach (var candidate in known)
        {
            if (string.Equals(candidate, key, StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }
        }
        return null;
    }

    private static string Unknown(string path, string key, string[] known, string what, string parent)
    {
        var hint = EditDistance.Closest(known, key, ignoreCase: true) is { } nearest
            ? $"did you mean {parent}:{nearest}?"
            : $"the settings are {string.Join(", ", known)}.";
        return $"{path} is not {what}, so it would change nothing: {hint}";
    }
}
