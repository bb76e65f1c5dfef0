namespace RateGuard.Configuration;

/// <summary>A bucket name declared up front, for buckets that only the <c>RateLimiter</c> adapter creates.</summary>
internal sealed record TokenBucketName(string Name);
