using System.Threading.RateLimiting;

namespace RateGuard.Interop;

/// <summary>A lease for one token-bucket decision; a rejection carries <see cref="MetadataName.RetryAfter"/> when waiting can help.</summary>
internal sealed class TokenBucketLease(bool isAcquired, TimeSpan? retryAfter) : RateLimitLease
{
    private static readonly string[] s_retryAfterOnly = [MetadataName.RetryAfter.Name];

    public static readonly TokenBucketLease Acquired = new(true, null);

    public override bool IsAcquired => isAcquired;

    public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : s_retryAfterOnly;

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        if (retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name)
        {
            metadata = wait;
            return true;
        }
        metadata = null;
        return false;
    }
}
