namespace RateGuard;

/// <summary>The outcome of one token-bucket decision.</summary>
/// <param name="IsAdmitted">Whether the request was admitted; only then were tokens deducted.</param>
/// <param name="Remaining">Whole tokens left in the bucket after this decision.</param>
/// <param name="RetryAfter">
/// How long until the bucket holds enough tokens for this request: <see cref="TimeSpan.Zero"/> when admitted and
/// <see cref="Never"/> when the cost exceeds the capacity, so no wait would help.
/// </param>
/// <param name="ResetAfter">How long until the bucket is full again.</param>
public readonly record struct RateLimitDecision(bool IsAdmitted, long Remaining, TimeSpan RetryAfter, TimeSpan ResetAfter)
{
    /// <summary>The <see cref="RetryAfter"/> of a request that can never be admitted.</summary>
    public static readonly TimeSpan Never = TimeSpan.MaxValue;

    /// <summary>Whether waiting can ever get this request admitted.</summary>
    public bool CanEverBeAdmitted => RetryAfter != Never;

    internal static RateLimitDecision FromMicroseconds(bool admitted, long remaining, long retryAfterMicroseconds, long resetAfterMicroseconds) =>
        new(admitted,
            remaining,
            retryAfterMicroseconds < 0 ? Never : TimeSpan.FromTicks(retryAfterMicroseconds * TimeSpan.TicksPerMicrosecond),
            TimeSpan.FromTicks(resetAfterMicroseconds * TimeSpan.TicksPerMicrosecond));
}
