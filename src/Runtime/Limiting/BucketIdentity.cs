using RateGuard.Stores;

namespace RateGuard.Limiting;

/// <summary>
/// One client's bucket as the limiter's in-process caches know it: the bucket's name and shape, and the client value
/// in the form it takes in a key. Two policies may share a name (an explicit <c>Bucket</c>) with different shapes,
/// and what is known of one says nothing about the other.
/// </summary>
internal readonly record struct BucketIdentity(string Bucket, int Capacity, long Interval, string Key)
{
    public static BucketIdentity Of(TokenBucketPolicy policy, string key) =>
        new(policy.Name, policy.Capacity, policy.IntervalMicroseconds, BucketKey.Normalize(key));
}
