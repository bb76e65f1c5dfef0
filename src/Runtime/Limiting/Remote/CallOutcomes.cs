using Microsoft.Extensions.Logging;
using RateGuard.Diagnostics;
using RateGuard.Limiting.Circuits;
using RateGuard.Limiting.Fallback;

namespace RateGuard.Limiting.Remote;

/// <summary>
/// What one call to a remote store ends as, and what each ending teaches: a decision fills the group's results and
/// feeds the deny cache and the local fallback; a failure counts against the server's circuit and is logged, a few
/// lines at most however many there are. Both kinds of remote store (Redis, and a store of the app's own) end their
/// calls here, so they are measured and remembered alike.
/// </summary>
internal sealed class CallOutcomes(string storeName, DenyCache denyCache, LocalFallback fallback, TokenBucketMetrics metrics, ILogger logger, TimeProvider time)
{
    /// <summary>The server answered the call sent at <paramref name="sentAt"/>, seen at <paramref name="seen"/>: it is there.</summary>
    public void Answered(StoreNode node, long sentAt, long seen, string outcome)
    {
        node.Replied(seen);
        node.Breaker.OnSuccess(); // an answer, however late, says the server is there
        metrics.StoreDuration(time.GetElapsedTime(sentAt, seen), storeName, outcome);
    }

    /// <summary>The store decided the group: each bucket's result, and what the deny cache and the local fallback learn.</summary>
    public void Decided(StoreGroup group, LimitRequest request, ReadOnlySpan<RateLimitDecision> decisions, long sentAt, TokenBucketOptions options)
    {
        var members = group.Members;
        var results = request.Results;
        for (var m = 0; m < members.Length; m++)
        {
            var i = members[m];
            var decision = decisions[m];
            results[i] = new LimiterResult(decision, DecisionSource.Store);
            // A bucket in shadow mode rejects nothing, so nothing of it is remembered to reject with; one that may get
            // tokens back after its requests run may hold them before the wait it gave.
            if (options.DenyCache && !request.Shadow(i) && !request.GivesBack(i))
            {
                denyCache.Learn(request.Policy(i), request.Key(i), sentAt, decision);
            }
            if (request.FailureMode(i) == FailureMode.Open)
            {
                fallback.Observe(request.Policy(i), request.Key(i), decision);
            }
        }
        group.Outcome = decisions[0].IsAdmitted ? GroupOutcome.Admitted : GroupOutcome.Rejected;
    }

    /// <summary>Redis ran the call after its deadline, so it took nothing: the group gets its failure mode.</summary>
    public void Late(StoreGroup group, LimitRequest request, TimeSpan budget, long seen)
    {
        Note(group.Node, request.Policy(group.Members[0]), $"ran the decision after its {budget.TotalMilliseconds} ms deadline, so it took nothing", null, seen);
        group.Outcome = GroupOutcome.Failed;
    }

    /// <summary>
    /// The call sent at <paramref name="sentAt"/> failed, or had no answer within its budget: the server's circuit hears
    /// of it, and the group gets its failure mode, never a 500.
    /// </summary>
    public void Failed(StoreGroup group, LimitRequest request, Exception exception, long sentAt, TimeSpan budget)
    {
        var now = time.GetTimestamp();
        var timedOut = exception is TimeoutException;
        metrics.StoreDuration(time.GetElapsedTime(sentAt, now), storeName, timedOut ? "timeout" : "failure");
        group.Node.Breaker.OnFailure(sentAt);
        Note(group.Node, request.Policy(group.Members[0]), timedOut ? $"no answer within {budget.TotalMilliseconds} ms" : $"{exception.GetType().Name}: {exception.Message}", exception, now);
        group.Outcome = GroupOutcome.Failed;
    }

    private void Note(StoreNode node, TokenBucketPolicy policy, string reason, Exception? exception, long now)
    {
        if (node.Failures.ShouldWrite(now, time, out var suppressed))
        {
            Log.StoreFailed(logger, node.Name, policy.Name, reason, suppressed, FailureLog.Period, exception);
        }
    }
}
