using RateGuard.Limiting.Circuits;
using RateGuard.Limiting.Fallback;
using RateGuard.Limiting.Remote;
using RateGuard.Stores;

namespace RateGuard.Limiting;

/// <summary>
/// Turns what the store made of each group of a request's buckets into the request's outcome, all or nothing: a bucket
/// the store rejected rejects the request; buckets the store could not decide get their failure mode; and when the
/// request is rejected after all, the groups the store admitted give their cost back. Then the request is counted.
/// </summary>
/// <remarks>
/// The failure modes, for the buckets the store could not decide: one whose mode is <see cref="FailureMode.Closed"/>
/// refuses the request with 503, and then no other bucket is charged; those whose mode is <see cref="FailureMode.Open"/>
/// are decided together by the local fallback, at this instance's share of each limit; those whose mode is
/// <see cref="FailureMode.AdmitAll"/> admit unchecked.
/// </remarks>
internal sealed class Settlement(LocalFallback? fallback, RedisTokenBucketStore? redis, StoreCircuits circuits, DecisionCounter counter)
{
    /// <summary>Decides the request from its groups' outcomes, counts it, and returns whether it is admitted.</summary>
    public bool Finish(LimitRequest request, StoreGroup[] groups, TokenBucketOptions options)
    {
        var admitted = Settle(request, groups, options);
        counter.Count(request, admitted);
        return admitted;
    }

    private bool Settle(LimitRequest request, StoreGroup[] groups, TokenBucketOptions options)
    {
        var rejected = false;
        var failed = false;
        var failedClosed = false;
        foreach (var group in groups)
        {
            rejected |= group.Outcome == GroupOutcome.Rejected;
            if (group.Outcome == GroupOutcome.Failed)
            {
                failed = true;
                foreach (var i in group.Members)
                {
                    failedClosed |= request.FailureMode(i) == FailureMode.Closed;
                }
            }
            else if (group.Outcome == GroupOutcome.Pending)
            {
                // A bucket after one that rejected, with a store that decides one bucket at a time: never asked.
                foreach (var i in group.Members)
                {
                    request.Results[i] = new LimiterResult(default, DecisionSource.NotAsked);
                }
            }
        }
        if (failed)
        {
            if (rejected || failedClosed)
            {
                MarkFailed(request, groups, refusing: !rejected);
                rejected = true;
            }
            else
            {
                rejected = !DecideUnchecked(request, groups, options);
            }
        }
        if (rejected && groups.Length > 1 && redis is not null)
        {
            foreach (var group in groups)
            {
                if (group.Outcome == GroupOutcome.Admitted)
                {
                    GiveBack(redis, group, request);
                }
            }
        }
        return !rejected;
    }

    // The request is refused: each bucket the store could not decide is not asked, but for those whose failure mode
    // refuses it when `refusing` (503, with a wait of the rest of their server's break).
    private void MarkFailed(LimitRequest request, StoreGroup[] groups, bool refusing)
    {
        foreach (var group in groups)
        {
            if (group.Outcome != GroupOutcome.Failed)
            {
                continue;
            }
            foreach (var i in group.Members)
            {
                request.Results[i] = refusing && request.FailureMode(i) == FailureMode.Closed
                    ? FailedClosed(group.Node)
                    : new LimiterResult(default, DecisionSource.NotAsked);
            }
        }
    }

    private LimiterResult FailedClosed(StoreNode node)
    {
        var retry = node.Breaker.RemainingBreak;
        return new LimiterResult(new RateLimitDecision(false, 0, retry > TimeSpan.Zero ? retry : circuits.BreakDuration, TimeSpan.Zero), DecisionSource.FailedClosed);
    }

    // No failed bucket refuses the request: those that fail open are decided together by the local fallback, at this
    // instance's share of each limit, and those that admit unchecked do so. Returns whether the request is admitted.
    private bool DecideUnchecked(LimitRequest request, StoreGroup[] groups, TokenBucketOptions options)
    {
        var open = 0;
        foreach (var group in groups)
        {
            if (group.Outcome != GroupOutcome.Failed)
            {
                continue;
            }
            foreach (var i in group.Members)
            {
                request.Results[i] = new LimiterResult(default, DecisionSource.FailedOpen);
                open += request.FailureMode(i) == FailureMode.Open ? 1 : 0;
            }
        }
        if (open == 0 || fallback is null)
        {
            return true;
        }
        var policies = new TokenBucketPolicy[open];
        var keys = new string[open];
        var indices = new int[open];
        var n = 0;
        for (var i = 0; i < request.Count && n < open; i++)
        {
            if (request.Results[i].Source == DecisionSource.FailedOpen && request.FailureMode(i) == FailureMode.Open)
            {
                policies[n] = request.Policy(i);
                keys[n] = request.Key(i);
                indices[n++] = i;
            }
        }
        var decisions = new RateLimitDecision[open];
        if (fallback.DecideAll(policies, keys, fallback.Instances(options), decisions) is not { } admitted)
        {
            return true; // a limit that cannot be divided among the instances admits unchecked
        }
        for (var m = 0; m < open; m++)
        {
            request.Results[indices[m]] = new LimiterResult(decisions[m], DecisionSource.LocalFallback);
        }
        return admitted;
    }

    // A group admitted by Redis while another rejected the request: its buckets get their cost back (never above
    // full), so the request takes nothing. Nobody waits for it; a give-back that fails leaves the buckets stricter.
    private static void GiveBack(RedisTokenBucketStore redis, StoreGroup group, LimitRequest request)
    {
        var charges = new BucketCharge[group.Members.Length];
        for (var m = 0; m < charges.Length; m++)
        {
            var i = group.Members[m];
            var policy = request.Policy(i);
            // A bucket in shadow mode that would have rejected took nothing, and has nothing to get back.
            charges[m] = new BucketCharge(policy, 0, request.Results[i].ShadowRejects ? 0 : -policy.Cost);
            var admitted = request.Results[i].Decision;
            request.Results[i] = new LimiterResult(admitted with { IsAdmitted = false, Remaining = Math.Min(policy.Capacity, admitted.Remaining + policy.Cost) }, DecisionSource.Store);
        }
        _ = redis.DecideAsync(group.Keys!, charges, deadline: 0).ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
