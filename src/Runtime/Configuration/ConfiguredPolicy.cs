namespace RateGuard.Configuration;

/// <summary>
/// What one bucket enforces under one configuration: the declared policy with the bucket's override of capacity and
/// rate applied, and the bucket's failure mode. Endpoint gates and the <c>RateLimiter</c> adapter both get theirs from
/// <see cref="Of"/>, the one place the two are worked out.
/// </summary>
/// <param name="Policy">The policy in force: the declared one with its override, or the declared one alone.</param>
/// <param name="FailureMode">What a request gets while the store cannot decide.</param>
internal sealed record ConfiguredPolicy(TokenBucketPolicy Policy, FailureMode FailureMode)
{
    /// <summary>
    /// Why the bucket's override cannot apply (its capacity is below the declared cost, or it makes no valid policy),
    /// when it cannot; <see cref="Policy"/> is then the declared one. Each caller decides whether that stops the app or
    /// is logged.
    /// </summary>
    public ArgumentException? IgnoredOverride { get; private init; }

    /// <summary>The policy and failure mode <paramref name="options"/> give the bucket of <paramref name="declared"/>.</summary>
    public static ConfiguredPolicy Of(TokenBucketOptions options, TokenBucketPolicy declared)
    {
        var failureMode = options.FailureModeOf(declared.Name);
        try
        {
            return new ConfiguredPolicy(options.Configure(declared), failureMode);
        }
        catch (ArgumentException e)
        {
            return new ConfiguredPolicy(declared, failureMode) { IgnoredOverride = e };
        }
    }
}
