namespace RateGuard.Operations;

/// <summary>One client's bucket as the store holds it at one moment.</summary>
/// <param name="Bucket">The bucket's name.</param>
/// <param name="Key">The client value.</param>
/// <param name="Tokens">Whole tokens in the bucket now.</param>
/// <param name="Capacity">Tokens the bucket holds when full.</param>
/// <param name="Rate">Tokens added per second.</param>
/// <param name="TimeToFull">How long until the bucket is full again; zero when it is.</param>
public sealed record TokenBucketState(string Bucket, string Key, long Tokens, int Capacity, double Rate, TimeSpan TimeToFull)
{
    /// <summary>
    /// Whole tokens the bucket owes beyond empty, rounded down: charges made after the fact
    /// (<see cref="TokenBucketAttribute.MaxCost"/>) can leave it in debt, which its client's requests wait to pay back.
    /// 0 when it holds tokens or is just empty.
    /// </summary>
    public long Debt => (long)Math.Max(0, Math.Floor(TimeToFull.TotalSeconds * Rate - Capacity + 1e-9));
}
