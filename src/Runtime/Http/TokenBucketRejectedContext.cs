using Microsoft.AspNetCore.Http;

namespace RateGuard;

/// <summary>Why a request was rejected.</summary>
public enum TokenBucketRejectionReason
{
    /// <summary>A bucket did not hold enough tokens.</summary>
    RateLimited,

    /// <summary>The request had no value for a bucket's key.</summary>
    MissingKey,

    /// <summary>The store could not decide and the bucket's failure mode is <see cref="FailureMode.Closed"/>.</summary>
    StoreUnavailable,

    /// <summary>The bucket's deny list names the client (403).</summary>
    Denied,
}

/// <summary>What <see cref="TokenBucketOptions.OnRejected"/> is told about a rejected request.</summary>
public sealed class TokenBucketRejectedContext
{
    internal TokenBucketRejectedContext(HttpContext httpContext, TokenBucketRejectionReason reason, TokenBucketPolicy policy, string keySource, RateLimitDecision? decision)
    {
        HttpContext = httpContext;
        Reason = reason;
        Policy = policy;
        KeySource = keySource;
        Decision = decision;
    }

    /// <summary>The request.</summary>
    public HttpContext HttpContext { get; }

    /// <summary>Why it was rejected.</summary>
    public TokenBucketRejectionReason Reason { get; }

    /// <summary>The bucket that rejected it.</summary>
    public TokenBucketPolicy Policy { get; }

    /// <summary>The bucket's key source, as written in the attribute, or its resolver's type name.</summary>
    public string KeySource { get; }

    /// <summary>The bucket's decision; <see langword="null"/> when the key was missing or the store could not decide.</summary>
    public RateLimitDecision? Decision { get; }
}
