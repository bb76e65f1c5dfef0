using RateGuard.Stores;

namespace RateGuard.Limiting.Remote;

/// <summary>
/// A request decided by a remote store of the app's own: one bucket at a time, each call within its budget on the
/// store's circuit, the request's cancellation passed on unless the store would rather not be stopped halfway (then
/// only the wait for it is). Such a store cannot give tokens back, so the buckets before one that rejects keep what
/// they took, and a request stops at the first rejection.
/// </summary>
internal sealed class OwnStoreDecision(ITokenBucketStore store, ReplyWait wait, CallOutcomes outcomes, Settlement settlement, DecisionCounter counter, TimeProvider time)
{
    private readonly bool _passCancellation = store.TakesRequestCancellation;

    /// <summary>Decides <paramref name="request"/>, settles and counts it, and returns whether it is admitted.</summary>
    public async ValueTask<bool> DecideAsync(LimitRequest request, StoreGroup[] groups, TokenBucketOptions options, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var group in groups)
            {
                await DecideAsync(group, request, options, cancellationToken).ConfigureAwait(false);
                if (group.Outcome == GroupOutcome.Rejected)
                {
                    break;
                }
            }
            return settlement.Finish(request, groups, options);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            counter.CountCanceled(request);
            throw;
        }
    }

    private async Task DecideAsync(StoreGroup group, LimitRequest request, TokenBucketOptions options, CancellationToken cancellationToken)
    {
        var node = group.Node;
        if (!node.Breaker.TryEnter(out var isProbe))
        {
            group.Outcome = GroupOutcome.Failed;
            return;
        }
        var i = group.Members[0];
        var sentAt = time.GetTimestamp();
        try
        {
            var call = store.AcquireAsync(request.Policy(i), request.Key(i), _passCancellation ? cancellationToken : CancellationToken.None).AsTask();
            var decision = await WaitAsync(call, node, sentAt, options.Timeout, cancellationToken).ConfigureAwait(false);
            outcomes.Answered(node, sentAt, time.GetTimestamp(), "success");
            outcomes.Decided(group, request, new ReadOnlySpan<RateLimitDecision>(in decision), sentAt, options);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; that says nothing about the store, but a probe must hand its turn on.
            if (isProbe)
            {
                node.Breaker.AbandonProbe();
            }
            throw;
        }
        catch (Exception e)
        {
            outcomes.Failed(group, request, e, sentAt, options.Timeout);
        }
    }

    // Waits until the budget ends, and past it as the reply wait allows.
    private async Task<RateLimitDecision> WaitAsync(Task<RateLimitDecision> call, Circuits.StoreNode node, long sentAt, TimeSpan budget, CancellationToken cancellationToken)
    {
        var until = sentAt + wait.Ticks(budget);
        var longest = sentAt + wait.Ticks(budget) * ReplyWait.LongestWait;
        while (true)
        {
            try
            {
                var now = time.GetTimestamp();
                var left = now < until ? time.GetElapsedTime(now, until) : TimeSpan.Zero;
                return await call.WaitAsync(left, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException) when (!call.IsCompleted)
            {
                if (wait.KeepWaiting(node, ref until, longest, budget))
                {
                    continue;
                }
                Observe(call);
                throw;
            }
            catch (TimeoutException)
            {
                return await call.ConfigureAwait(false); // it came in while the timer's news was on its way
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Observe(call);
                throw;
            }
        }
    }

    // Abandoned past the budget (or by its client): its eventual failure is observed, so it is not reported as unobserved.
    private static void Observe(Task call)
    {
        if (!call.IsCompleted)
        {
            _ = call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
