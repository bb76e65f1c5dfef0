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
    /// <param name="shadow">
    /// Whether the bucket is in shadow mode: when it does not hold the cost, the decision is still an admission, with
    /// the wait it would have given (<see cref="RateLimitDecision.RetryAfter"/> above zero) and nothing charged.
    /// </param>
    public static RateLimitDecision Decide(long fullAt, long now, TokenBucketPolicy policy, out long nextFullAt, bool shadow = false)
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
            return RateLimitDecision.FromMicroseconds(shadow, tokens, -1, debt);
        }

        var candidate = fullAt + policy.Cost * interval;
        var excess = candidate - now - window;
        if (excess > 0)
        {
            return RateLimitDecision.FromMicroseconds(shadow, tokens, excess, debt);
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
    /// <param name="shadow">
    /// Which buckets are in shadow mode (empty when none): one that does not hold its cost does not reject the request,
    /// takes nothing, and is answered admitted with the wait it would have given.
    /// </param>
    /// <returns>Whether the request is admitted.</returns>
    public static bool DecideAll(ReadOnlySpan<long> fullAt, long now, ReadOnlySpan<TokenBucketPolicy> policies, ReadOnlySpan<int> earlier, Span<RateLimitDecision> decisions, Span<long> next, ReadOnlySpan<bool> shadow = default)
    {
        var admitted = true;
        Span<long> retry = policies.Length <= 16 ? stackalloc long[policies.Length] : new long[policies.Length];
        for (var i = 0; i < policies.Length; i++)
        {
            var policy = policies[i];
            var from = earlier[i] >= 0 ? next[earlier[i]] : Math.Max(fullAt[i], now);
            next[i] = from + policy.Cost * policy.IntervalMicroseconds;
            retry[i] = policy.Cost > policy.Capacity ? -1 : Math.Max(0, next[i] - now - policy.WindowMicroseconds);
            if (retry[i] != 0)
            {
                if (!shadow.IsEmpty && shadow[i])
                {
                    next[i] = from; // it would reject: the request goes on without it, and it takes nothing
                }
                else
                {
                    admitted = false;
                }
            }
        }
        for (var i = 0; i < policies.Length; i++)
        {
            // Admitted: the bucket once charged up to this appearance. Rejected: the bucket as it stays, uncharged.
            var policy = policies[i];
            var at = admitted ? next[i] : Math.Max(fullAt[i], now);
            var tokens = Math.Max(0, FloorDiv(policy.WindowMicroseconds - (at - now), policy.IntervalMicroseconds));
            decisions[i] = RateLimitDecision.FromMicroseconds(admitted, tokens, retry[i], at - now);
        }
        return admitted;
    }

    /// <summary>The furthest a bucket in debt may be full again, in µs from now: 100 years of refill, the script's LONGEST.</summary>
    public const long LongestDebt = 3_155_760_000_000_000;

    /// <summary>
    /// The bucket's time to full once <paramref name="debt"/> tokens are charged (negative: given back), as the script's
    /// debts are: a charge never past an empty bucket, or past <see cref="LongestDebt"/> when <paramref name="overdraw"/>
    /// lets it go into debt (nor moved back, if the clock left it further); tokens given back pay back what the bucket
    /// owes, however far in debt another request's charge left it, and never fill it past full.
    /// </summary>
    public static long Owe(long fullAt, long now, TokenBucketPolicy policy, long debt, bool overdraw)
    {
        var from = Math.Max(fullAt, now);
        var owed = from + debt * policy.IntervalMicroseconds;
        var furthest = now + (overdraw ? LongestDebt : policy.WindowMicroseconds);
        if (debt > 0 && owed > furthest)
        {
            return Math.Max(from, furthest);
        }
        return Math.Max(owed, now);
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
