using RateGuard.Operations;

namespace RateGuard.Http.Admin;

/// <summary>One bucket with the clients it rejected most, as the page and the JSON show it.</summary>
internal sealed record AdminBucket(TokenBucketSummary Summary, IReadOnlyList<RejectedClient> TopRejected);
