namespace RateGuard.Diagnostics;

/// <summary>
/// The values of the <see cref="TokenBucketMetrics.ResultTag"/> tag. The first three are ASP.NET Core's own; the others
/// are outcomes only a distributed limiter has.
/// </summary>
public static class RequestResults
{
    /// <summary>The store admitted the request (ASP.NET Core's value).</summary>
    public const string Acquired = "acquired";

    /// <summary>The store rejected the request (ASP.NET Core's value for a rejection by the endpoint's limiter).</summary>
    public const string EndpointLimiter = "endpoint_limiter";

    /// <summary>The client went away before the decision was made; the request took nothing (ASP.NET Core's value).</summary>
    public const string RequestCanceled = "request_canceled";

    /// <summary>A remembered rejection rejected the request without asking the store.</summary>
    public const string DenyCache = "deny_cache";

    /// <summary>The store could not decide; the request was admitted (failure mode Open).</summary>
    public const string FailedOpen = "failed_open";

    /// <summary>The store could not decide; the request was refused with 503 (failure mode Closed).</summary>
    public const string FailedClosed = "failed_closed";

    /// <summary>The store could not decide; the local fallback admitted the request.</summary>
    public const string FallbackAcquired = "fallback_acquired";

    /// <summary>The store could not decide; the local fallback rejected the request.</summary>
    public const string FallbackRejected = "fallback_rejected";

    /// <summary>The request had no value for the bucket's key (no such header, an anonymous user) and was refused.</summary>
    public const string MissingKey = "missing_key";

    /// <summary>
    /// The request skipped the bucket: its client is exempt (an exempt key or network, or an unlimited plan) and took no
    /// tokens.
    /// </summary>
    public const string Exempt = "exempt";

    /// <summary>The bucket's deny list names the client, and the request was refused with 403.</summary>
    public const string Denied = "denied";

    /// <summary>
    /// The bucket is in shadow mode and would have refused the request (rejected it, denied its client or found no key);
    /// it took no tokens from that bucket, and was let through unless another bucket of its endpoint refused it.
    /// </summary>
    public const string ShadowRejected = "shadow_rejected";
}
