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
}

/// <summary>A decision and its source.</summary>
internal readonly record struct LimiterResult(RateLimitDecision Decision, DecisionSource Source)
{
    /// <summary>Whether the request may go on.</summary>
    public bool IsAdmitted => Source == DecisionSource.FailedOpen || (Source != DecisionSource.FailedClosed && Decision.IsAdmitted);

    /// <summary>Whether the decision describes a real bucket, and so belongs in rate-limit headers.</summary>
    public bool HasBucketState => Source is DecisionSource.Store or DecisionSource.DenyCache or DecisionSource.LocalFallback;
}
