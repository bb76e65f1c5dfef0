using System.Net;

namespace RateGuard.Testing;

/// <summary>What a rejected response says about its rejection, read by <see cref="TokenBucketHttpResponseMessageExtensions.EnsureRateLimited"/>.</summary>
public sealed class RateLimitRejection
{
    internal RateLimitRejection(HttpStatusCode statusCode, TimeSpan? retryAfter, IReadOnlyList<string> buckets)
    {
        StatusCode = statusCode;
        RetryAfter = retryAfter;
        Buckets = buckets;
    }

    /// <summary>The response's status code.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>
    /// The wait <c>Retry-After</c> asks for, in whole seconds; <see langword="null"/> only when the request costs more
    /// tokens than its bucket can hold, so no wait would admit it.
    /// </summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>
    /// The buckets the endpoint draws from, as the <c>RateLimit-Policy</c> header names them; empty when the app sends
    /// another header style or none.
    /// </summary>
    public IReadOnlyList<string> Buckets { get; }
}
