namespace RateGuard.Limiting;

/// <summary>Where a decision came from.</summary>
internal enum DecisionSource
{
    /// <summary>The store decided.</summary>
    Store,

    /// <summary>A remembered Redis rejection still held.</summary>
    DenyCache,

    /// <summary>The store could not decide; the request was admitted (failure mode Open).</summary>
    FailedOpen,

    /// <summary>The store could not decide; the request is answered 503 (failure mode Closed).</summary>
    FailedClosed,

    /// <summary>The store could not decide; the in-memory fallback did, with the scaled limit.</summary>
    LocalFallback,

    /// <summary>The bucket was not asked: another bucket of the same request rejected it first.</summary>
    NotAsked,
}

/// <summary>A decision and its source.</summary>
internal readonly record struct LimiterResult(RateLimitDecision Decision, DecisionSource Source)
{
    /// <summary>Whether the request may go on.</summary>
    public bool IsAdmitted => Source is DecisionSource.FailedOpen || (Source is not (DecisionSource.FailedClosed or DecisionSource.NotAsked) && Decision.IsAdmitted);

    /// <summary>Whether this bucket is one that rejected the request (rather than one it did not get to, or one with room).</summary>
    public bool Rejects => Source is DecisionSource.FailedClosed
        || (Source is (DecisionSource.Store or DecisionSource.DenyCache or DecisionSource.LocalFallback) && !Decision.IsAdmitted && Decision.RetryAfter > TimeSpan.Zero);

    /// <summary>
    /// Whether the bucket is in shadow mode and would have rejected the request: the store answered it admitted, with the
    /// wait a rejection would have given, and took nothing from it.
    /// </summary>
    public bool ShadowRejects => Source is DecisionSource.Store && Decision.IsAdmitted && Decision.RetryAfter != TimeSpan.Zero;

    /// <summary>Whether the decision describes a real bucket, and so belongs in rate-limit headers.</summary>
    public bool HasBucketState => Source is DecisionSource.Store or DecisionSource.DenyCache or DecisionSource.LocalFallback;
}
