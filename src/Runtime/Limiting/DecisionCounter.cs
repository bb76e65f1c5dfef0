using RateGuard.Diagnostics;

namespace RateGuard.Limiting;

/// <summary>
/// Counts each decided request, bucket by bucket, in the meter and in what this instance tells operators of its recent
/// activity. An admitted request counts on every bucket; a rejected one only on the buckets that rejected it, since a
/// bucket that was not charged did not admit it.
/// </summary>
/// <remarks>
/// A bucket in shadow mode that would have rejected a request it let through is answered admitted with a wait
/// (<see cref="LimiterResult.ShadowRejects"/>): it counts as <see cref="RequestResults.ShadowRejected"/>, and in
/// <see cref="ShadowLog"/>.
/// </remarks>
internal sealed class DecisionCounter(TokenBucketMetrics metrics, ActivityTracker activity, ShadowLog shadow)
{
    /// <summary>What this instance decided per bucket lately, and whom it rejected.</summary>
    public ActivityTracker Activity => activity;

    /// <summary>Counts <paramref name="request"/>, decided as <paramref name="admitted"/>, on each of its buckets.</summary>
    public void Count(LimitRequest request, bool admitted)
    {
        var results = request.Results;
        for (var i = 0; i < results.Length; i++)
        {
            var result = results[i];
            var name = request.Policy(i).Name;
            switch (result.Source)
            {
                case DecisionSource.Store when result.ShadowRejects:
                    CountShadowRejected(request.Policy(i));
                    break;
                case DecisionSource.Store when result.Rejects && request.Shadow(i):
                    // It would have refused a request that another bucket refused: counted, but not as let through.
                    CountShadowRejected(request.Policy(i), letThrough: false);
                    break;
                case DecisionSource.Store when admitted:
                    Admitted(name, RequestResults.Acquired);
                    break;
                case DecisionSource.Store when result.Rejects:
                    Rejected(name, request.Key(i), RequestResults.EndpointLimiter);
                    break;
                case DecisionSource.DenyCache:
                    Rejected(name, request.Key(i), RequestResults.DenyCache);
                    break;
                case DecisionSource.LocalFallback when admitted:
                    Admitted(name, RequestResults.FallbackAcquired);
                    break;
                case DecisionSource.LocalFallback when result.Rejects:
                    Rejected(name, request.Key(i), RequestResults.FallbackRejected);
                    break;
                case DecisionSource.FailedOpen when admitted:
                    Admitted(name, RequestResults.FailedOpen);
                    break;
                case DecisionSource.FailedClosed:
                    Rejected(name, request.Key(i), RequestResults.FailedClosed);
                    break;
            }
        }
    }

    /// <summary>Counts a request whose client went away before it was decided: it took nothing.</summary>
    public void CountCanceled(LimitRequest request)
    {
        for (var i = 0; i < request.Count; i++)
        {
            metrics.Request(request.Policy(i).Name, RequestResults.RequestCanceled);
        }
    }

    /// <summary>Counts a request refused because it had no value for the bucket's key.</summary>
    public void CountMissingKey(TokenBucketPolicy policy) => metrics.Request(policy.Name, RequestResults.MissingKey);

    /// <summary>Counts a request that skipped the bucket: its client is exempt, and it took nothing.</summary>
    public void CountExempt(TokenBucketPolicy policy) => metrics.Request(policy.Name, RequestResults.Exempt);

    /// <summary>
    /// Counts a request that the bucket, in shadow mode, would have refused: let through, unless another bucket refused
    /// it (<paramref name="letThrough"/> false).
    /// </summary>
    public void CountShadowRejected(TokenBucketPolicy policy, bool letThrough = true)
    {
        metrics.Request(policy.Name, RequestResults.ShadowRejected);
        if (letThrough)
        {
            activity.Admitted(policy.Name);
        }
        activity.ShadowRejected(policy.Name);
        shadow.Rejected(policy.Name);
    }

    /// <summary>Counts a request refused because the bucket's deny list names its client.</summary>
    public void CountDenied(TokenBucketPolicy policy) => metrics.Request(policy.Name, RequestResults.Denied);

    private void Admitted(string bucket, string result)
    {
        metrics.Request(bucket, result);
        activity.Admitted(bucket);
    }

    private void Rejected(string bucket, string key, string result)
    {
        metrics.Request(bucket, result);
        activity.Rejected(bucket, key);
    }
}
