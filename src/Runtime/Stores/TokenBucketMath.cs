namespace RateGuard.Stores;

/// <summary>
/// The token-bucket decision in C#, the exact twin of <c>Lua/token-bucket.lua</c>: same state (the time at which the
/// bucket is full again), same integer arithmetic, same results.
/// </summary>
internal static class TokenBucketMath
{
    /// <summary>Decides one request.</summary>
    /// <param name="fullAt">The stored time the bucket is full again, in µs; anything at or before <paramref name="now"/> is a full bucket.</param>
    /// <param name="now">The current time in µs since the Unix epoch.</param>
    /// <param name="policy">The bucket.</param>
    /// <param name="nextFullAt">The value to store when admitted.</param>
    public static RateLimitDecision Decide(long fullAt, long now, TokenBucketPolicy policy, out long nextFullAt)
    {
        var interval = policy.IntervalMicroseconds;
        var window = policy.WindowMicroseconds;
        if (fullAt < now)
        {
            fullAt = now;
        }

        // A clock that steps backwards leaves fullAt more than a window ahead: the bucket reads as empty,
        // never as gaining tokens.
        var debt = fullAt - now;
        var tokens = Math.Max(0, FloorDiv(window - debt, interval));

        nextFullAt = fullAt;
        if (policy.Cost > policy.Capacity)
        {
            return RateLimitDecision.FromMicroseconds(false, tokens, -1, debt);
        }

        var candidate = fullAt + policy.Cost * interval;
        var excess = candidate - now - window;
        if (excess > 0)
        {
            return RateLimitDecision.FromMicroseconds(false, tokens, excess, debt);
        }

        nextFullAt = candidate;
        return RateLimitDecision.FromMicroseconds(true, tokens - policy.Cost, 0, candidate - now);
    }

    // Lua's math.floor of a quotient, for integers.
    private static long FloorDiv(long a, long b)
    {
        var q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }
}
