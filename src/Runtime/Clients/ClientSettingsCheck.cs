using RateGuard.Configuration;

namespace RateGuard.Clients;

/// <summary>
/// Stops the app at startup when what it says of particular clients would apply nowhere: plans, exempt or deny lists
/// for a bucket no limit uses, or plans for a bucket whose limits never read a plan. A deny list that protects nothing,
/// or a paying plan nobody gets, must not pass in silence.
/// </summary>
internal static class ClientSettingsCheck
{
    /// <exception cref="InvalidOperationException">A setting names no bucket in use, or plans no limit reads.</exception>
    public static void ThrowIfMisplaced(KnownBuckets known, DeclaredPlans declared, TokenBucketOptions options)
    {
        var names = known.Names;
        var readingPlans = known.BucketsReadingPlans;
        var problems = new List<string>();
        foreach (var bucket in declared.Buckets)
        {
            Check(bucket, $"AddTokenBucketPlans(\"{bucket}\", ...)", declared.PlansOf(bucket, options).Count > 0);
        }
        foreach (var (bucket, settings) in options.Buckets)
        {
            if (settings.Plans.Count > 0 || settings.Exempt.Count > 0 || settings.Deny.Count > 0)
            {
                Check(bucket, $"TokenBuckets:Buckets:{bucket}", settings.Plans.Count > 0);
            }
        }
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(" ", problems));
        }

        void Check(string bucket, string where, bool hasPlans)
        {
            var matches = BucketNames.Matches(bucket, names);
            if (matches.Count == 0)
            {
                var buckets = names.Count == 0 ? "this app uses none" : "the buckets are " + string.Join(", ", names.Select(n => $"'{n}'"));
                var nearest = EditDistance.Closest(names, bucket, ignoreCase: true) is { } closest ? $" Did you mean '{closest}'?" : "";
                problems.Add($"{where} names no bucket in use, so its plans and lists would apply to nobody ({buckets}).{nearest}");
            }
            else if (hasPlans && !matches.Any(readingPlans.Contains))
            {
                problems.Add($"{where} declares plans, but no limit of bucket '{matches[0]}' reads the caller's plan, so nobody would get them: set Plan (such as \"claim:plan\") or PlanResolver on its limit.");
            }
        }
    }
}
