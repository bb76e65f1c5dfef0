namespace RateGuard.Operations;

/// <summary>One client's own limits on one bucket, set by an operator.</summary>
/// <param name="Bucket">The bucket, by name.</param>
/// <param name="Key">The client value, as the limit reads it.</param>
/// <param name="Capacity">The most tokens the client holds.</param>
/// <param name="Rate">Tokens added per second.</param>
/// <param name="ExpiresAt">When the override ends and the client's plan or the limit's own values apply again.</param>
public sealed record TokenBucketClientOverride(string Bucket, string Key, int Capacity, double Rate, DateTimeOffset ExpiresAt);
