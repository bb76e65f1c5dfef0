using Microsoft.Extensions.Options;
using RateGuard.Configuration;
using RateGuard.Stores;

namespace RateGuard;

// Checks each setting on its own, and each bucket override against the buckets the app is known to use: one that
// names two buckets at once, or leaves a request costing more than the capacity, fails the options as a whole, so a
// reload carrying it is refused entire rather than applied in part.
internal sealed class TokenBucketOptionsValidator(KnownBuckets known) : IValidateOptions<TokenBucketOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenBucketOptions options)
    {
        List<string>? failures = null;
        if (!string.IsNullOrWhiteSpace(options.Redis) && RedisConfiguration.Problem(options.Redis) is { } problem)
        {
            (failures ??= []).Add($"TokenBuckets:Redis cannot be used: {problem}");
        }
        if (!string.IsNullOrWhiteSpace(options.RedisCaCertificate) && !File.Exists(options.RedisCaCertificate))
        {
            (failures ??= []).Add($"TokenBuckets:RedisCaCertificate '{options.RedisCaCertificate}' is not a file.");
        }
        if (!BucketKey.IsValidPrefix(options.KeyPrefix))
        {
            (failures ??= []).Add($"TokenBuckets:KeyPrefix '{options.KeyPrefix}' is invalid: {LimitRules.KeyPrefix}.");
        }
        if (options.InMemorySweepInterval <= TimeSpan.Zero || options.InMemorySweepInterval > TimeSpan.FromDays(1))
        {
            (failures ??= []).Add($"TokenBuckets:InMemorySweepInterval must be positive and at most a day, but was {options.InMemorySweepInterval}.");
        }
        if (!Enum.IsDefined(options.Clock))
        {
            (failures ??= []).Add($"TokenBuckets:Clock '{options.Clock}' is not one of {string.Join(", ", Enum.GetNames<TokenBucketClock>())}.");
        }
        if (options.RejectionStatusCode is < 400 or > 599)
        {
            (failures ??= []).Add($"TokenBuckets:RejectionStatusCode must be a 4xx or 5xx status, but was {options.RejectionStatusCode}.");
        }
        if (options.MissingKeyStatusCode is < 400 or > 599)
        {
            (failures ??= []).Add($"TokenBuckets:MissingKeyStatusCode must be a 4xx or 5xx status, but was {options.MissingKeyStatusCode}.");
        }
        if (!Enum.IsDefined(options.Headers))
        {
            (failures ??= []).Add($"TokenBuckets:Headers '{options.Headers}' is not one of {string.Join(", ", Enum.GetNames<RateLimitHeaderStyle>())}.");
        }
        if (!Enum.IsDefined(options.MissingKey))
        {
            (failures ??= []).Add($"TokenBuckets:MissingKey '{options.MissingKey}' is not one of {string.Join(", ", Enum.GetNames<MissingKeyBehavior>())}.");
        }
        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromMinutes(1))
        {
            (failures ??= []).Add($"TokenBuckets:Timeout must be positive and at most a minute, but was {options.Timeout}.");
        }
        foreach (var (bucket, overrides) in options.Buckets)
        {
            if (!TokenBucketPolicy.IsValidName(bucket))
            {
                (failures ??= []).Add($"TokenBuckets:Buckets:{bucket} is invalid: {LimitRules.BucketName}.");
            }
            if (overrides.Capacity is { } capacityOverride && !TokenBucketLimits.IsValidCapacity(capacityOverride))
            {
                (failures ??= []).Add($"TokenBuckets:Buckets:{bucket}:Capacity {overrides.Capacity} is invalid: {LimitRules.Capacity}.");
            }
            if (overrides.Rate is { } rate && !TokenBucketLimits.IsValidRate(rate))
            {
                (failures ??= []).Add($"TokenBuckets:Buckets:{bucket}:Rate {rate.ToString(System.Globalization.CultureInfo.InvariantCulture)} is invalid: {LimitRules.Rate}.");
            }
            if (overrides.FailureMode is { } mode && !Enum.IsDefined(mode))
            {
                (failures ??= []).Add($"TokenBuckets:Buckets:{bucket}:FailureMode '{mode}' is not one of {string.Join(", ", Enum.GetNames<FailureMode>())}.");
            }
            if (overrides.Mode is { } bucketMode && !Enum.IsDefined(bucketMode))
            {
                (failures ??= []).Add($"TokenBuckets:Buckets:{bucket}:Mode '{bucketMode}' is not one of {string.Join(", ", Enum.GetNames<TokenBucketMode>())}.");
            }
            if (overrides.Count is { } count && !TokenBucketCount.TryParse(count, out _))
            {
                (failures ??= []).Add($"TokenBuckets:Buckets:{bucket}:Count '{count}' is invalid: {LimitRules.Count}.");
            }
            if (overrides.MaxCost is < 0)
            {
                (failures ??= []).Add($"TokenBuckets:Buckets:{bucket}:MaxCost {overrides.MaxCost} is invalid: {LimitRules.MaxCost}.");
            }
            foreach (var (plan, settings) in overrides.Plans)
            {
                if (settings.Capacity is { } planCapacity && !TokenBucketLimits.IsValidCapacity(planCapacity))
                {
                    (failures ??= []).Add($"TokenBuckets:Buckets:{bucket}:Plans:{plan}:Capacity {planCapacity} is invalid: {LimitRules.Capacity}.");
                }
                if (settings.Rate is { } planRate && !TokenBucketLimits.IsValidRate(planRate))
                {
                    (failures ??= []).Add($"TokenBuckets:Buckets:{bucket}:Plans:{plan}:Rate {planRate.ToString(System.Globalization.CultureInfo.InvariantCulture)} is invalid: {LimitRules.Rate}.");
                }
            }
            foreach (var (list, values) in (ReadOnlySpan<(string, List<string>)>)[(nameof(overrides.Exempt), overrides.Exempt), (nameof(overrides.Deny), overrides.Deny)])
            {
                for (var i = 0; i < values.Count; i++)
                {
                    if (string.IsNullOrEmpty(values[i]))
                    {
                        (failures ??= []).Add($"TokenBuckets:Buckets:{bucket}:{list}:{i} is empty; it must be a client's key value, as the limit reads it.");
                    }
                }
            }
            if (known.IsEmpty)
            {
                continue;
            }
            var matches = BucketNames.Matches(bucket, known.Names);
            if (matches.Count > 1)
            {
                (failures ??= []).Add(BucketNames.Ambiguous(bucket, matches));
            }
            foreach (var match in matches)
            {
                if (overrides.Capacity is { } capacity && known.TryGetCost(match, out var cost) && cost > capacity)
                {
                    (failures ??= []).Add(TokenBucketOptions.CapacityBelowCost(bucket, capacity, cost));
                }
                if (overrides.MaxCost is { } maxCost and > 0 && known.TryGetCost(match, out var upFront) && !TokenBucketLimits.IsValidMaxCost(maxCost, upFront, overrides.Rate ?? 0))
                {
                    (failures ??= []).Add($"TokenBuckets:Buckets:{bucket}:MaxCost {maxCost} is invalid with a cost of {upFront} tokens up front: {LimitRules.MaxCost}.");
                }
                foreach (var (plan, settings) in overrides.Plans)
                {
                    if (settings.Capacity is { } planCapacity && known.TryGetCost(match, out var planCost) && planCost > planCapacity)
                    {
                        (failures ??= []).Add($"TokenBuckets:Buckets:{bucket}:Plans:{plan}:Capacity {planCapacity} is invalid with a cost of {planCost} tokens per request: {LimitRules.CostWithinCapacity}.");
                    }
                }
            }
        }
        try
        {
            Clients.ExemptNetworks.Parse(options.ExemptNetworks);
        }
        catch (FormatException e)
        {
            (failures ??= []).Add(e.Message);
        }
        if (options.BreakerFailureThreshold < 1)
        {
            (failures ??= []).Add($"TokenBuckets:BreakerFailureThreshold must be at least 1, but was {options.BreakerFailureThreshold}.");
        }
        if (options.BreakDuration <= TimeSpan.Zero)
        {
            (failures ??= []).Add($"TokenBuckets:BreakDuration must be positive, but was {options.BreakDuration}.");
        }
        if (options.InstanceCount < 1)
        {
            (failures ??= []).Add($"TokenBuckets:InstanceCount must be at least 1, but was {options.InstanceCount}.");
        }
        if (options.DenyCacheSize < 0)
        {
            (failures ??= []).Add($"TokenBuckets:DenyCacheSize must not be negative, but was {options.DenyCacheSize}.");
        }
        if (options.MaxOverrides is < 1 or > TokenBucketOptions.MaxOverridesLimit)
        {
            (failures ??= []).Add($"TokenBuckets:MaxOverrides must be between 1 and {TokenBucketOptions.MaxOverridesLimit:#,0} (every instance holds them all in memory), but was {options.MaxOverrides}.");
        }
        if (options.IPv6PrefixLength is < 1 or > 128)
        {
            (failures ??= []).Add($"TokenBuckets:IPv6PrefixLength must be between 1 and 128, but was {options.IPv6PrefixLength}.");
        }
        if (!Enum.IsDefined(options.Mode))
        {
            (failures ??= []).Add($"TokenBuckets:Mode '{options.Mode}' is not one of {string.Join(", ", Enum.GetNames<TokenBucketMode>())}.");
        }
        if (!Enum.IsDefined(options.FailureMode))
        {
            (failures ??= []).Add($"TokenBuckets:FailureMode '{options.FailureMode}' is not one of {string.Join(", ", Enum.GetNames<FailureMode>())}.");
        }
        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
