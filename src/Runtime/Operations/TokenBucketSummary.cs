namespace RateGuard.Operations;

/// <summary>One bucket of the app: its shape as configuration has it now, and what this instance decided for it lately.</summary>
/// <param name="Name">The bucket's name, as rate-limit headers and logs give it.</param>
/// <param name="Capacity">Tokens the bucket holds when full.</param>
/// <param name="Rate">Tokens added per second.</param>
/// <param name="Cost">Tokens a request takes (the highest cost declared for this name).</param>
/// <param name="FailureMode">What requests get while the store cannot decide.</param>
/// <param name="Activity">This instance's decisions for the bucket over the recent past.</param>
public sealed record TokenBucketSummary(string Name, int Capacity, double Rate, int Cost, FailureMode FailureMode, TokenBucketActivity Activity)
{
    /// <summary>Whether the bucket enforces its rejections or only watches them, as configuration has it now.</summary>
    public TokenBucketMode Mode { get; init; }
}
