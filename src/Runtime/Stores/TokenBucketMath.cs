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

    /// <summary>
    /// Decides one request that draws from several buckets, as the script's requests form does (the contract at the top of
    /// <c>Lua/token-bucket.lua</c>, without debts): admitted only if every bucket holds its cost, and then every bucket is
    /// charged; otherwise none is. A bucket that appears twice (<paramref name="earlier"/> gives the index of its previous
    /// appearance, or -1) is judged against what its earlier appearance would take.
    /// </summary>
    /// <param name="fullAt">Each bucket's stored time to full, in µs (the same for every appearance of one bucket).</param>
    /// <param name="now">The current time in µs.</param>
    /// <param name="policies">Each bucket's policy, with this request's cost.</param>
    /// <param name="earlier">For each bucket, the index of the same bucket earlier in the request, or -1.</param>
    /// <param name="decisions">Each bucket's decision.</param>
    /// <param name="next">Each bucket's time to full once charged; for a bucket that appears twice, its last appearance holds the total.</param>
    /// <returns>Whether the request is admitted.</returns>
    public static bool DecideAll(ReadOnlySpan<long> fullAt, long now, ReadOnlySpan<TokenBucketPolicy> policies, ReadOnlySpan<int> earlier, Span<RateLimitDecision> decisions, Span<long> next)
    {
        var admitted = true;
        Span<long> retry = policies.Length <= 16 ? stackalloc long[policies.Length] : new long[policies.Length];
        for (var i = 0; i < policies.Length; i++)
        {
            var policy = policies[i];
            var from = earlier[i] >= 0 ? next[earlier[i]] : Math.Max(fullAt[i], now);
            next[i] = from + policy.Cost * policy.IntervalMicroseconds;
            if (policy.Cost > policy.Capacity)
            {
                retry[i] = -1;
                admitted = false;
            }
            else
            {
                var excess = next[i] - now - policy.WindowMicroseconds;
                retry[i] = Math.Max(0, excess);
                admitted &= excess <= 0;
            }
        }
        for (var i = 0; i < policies.Length; i++)
        {
            // Admitted: the bucket once charged up to this appearance. Rejected: the bucket as it stays, uncharged.
            var policy = policies[i];
            var at = admitted ? next[i] : Math.Max(fullAt[i], now);
            var tokens = Math.Max(0, FloorDiv(policy.WindowMicroseconds - (at - now), policy.IntervalMicroseconds));
            decisions[i] = RateLimitDecision.FromMicroseconds(admitted, tokens, admitted ? 0 : retry[i], at - now);
        }
        return admitted;
    }

    /// <summary>
    /// A bucket as it stands, without deciding anything: what the script answers for a cost of 0 (its whole tokens and
    /// time to full), admitted because nothing is asked of it.
    /// </summary>
    public static RateLimitDecision Peek(long fullAt, long now, TokenBucketPolicy policy)
    {
        var debt = Math.Max(fullAt, now) - now;
        var tokens = Math.Max(0, FloorDiv(policy.WindowMicroseconds - debt, policy.IntervalMicroseconds));
        return RateLimitDecision.FromMicroseconds(true, tokens, 0, debt);
    }

    // Lua's math.floor of a quotient, for integers.
    private static long FloorDiv(long a, long b)
    {
        var q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }
}
