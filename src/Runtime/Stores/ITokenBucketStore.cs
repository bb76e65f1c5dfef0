namespace RateGuard.Stores;

/// <summary>Where token buckets live and where decisions are made atomically.</summary>
public interface ITokenBucketStore
{
    /// <summary>
    /// Takes <see cref="TokenBucketPolicy.Cost"/> tokens from the bucket of <paramref name="policy"/> for
    /// <paramref name="partitionKey"/> if it holds that many; otherwise takes nothing.
    /// </summary>
    /// <param name="policy">The bucket and the cost of this request.</param>
    /// <param name="partitionKey">The untrusted client value that selects the bucket (an IP, a user id, a header value...).</param>
    /// <param name="cancellationToken">Cancels waiting for the decision.</param>
    ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default);
}
