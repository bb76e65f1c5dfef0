using System.Runtime.CompilerServices;
using RateGuard.Limiting.Circuits;
using RateGuard.Limiting.Fallback;
using RateGuard.Stores;
using StackExchange.Redis;

namespace RateGuard.Limiting.Remote;

/// <summary>
/// One script call for one group of a request's buckets (one cluster slot's): on its server's circuit, within its
/// budget, with a deadline on the server's clock after which the script takes nothing. Its answer is a decision, or it
/// is late (Redis ran it after the deadline, so it took nothing), or it failed; a late or failed group gets its failure
/// mode from the settlement.
/// </summary>
/// <remarks>
/// <para>
/// A call that fails on its way (a reset connection, a slot that moved, a failover in progress) is sent again while
/// the budget lasts, with the same deadline, so Redis still takes nothing once nobody waits. A call that reached Redis
/// only after its deadline took nothing; Redis is there, and a stall on the way is what made it late (this process's,
/// while it is behind, or the network's), so it is sent again with a budget of its own: once, and again while this
/// process stays behind (a batched call: while the longest wait lasts), up to <see cref="ReplyWait.LongestWait"/>
/// budgets in all.
/// </para>
/// <para>
/// A group that is the whole request (no cluster, or one slot: the common case) is settled and counted in the same
/// state machine, so that deciding a request takes one.
/// </para>
/// </remarks>
internal sealed class RedisDecision(
    RedisTokenBucketStore redis,
    StoreCircuits circuits,
    ReplyWatch watch,
    ReplyWait wait,
    CallOutcomes outcomes,
    FallbackDebts debts,
    Settlement settlement,
    DecisionCounter counter,
    TimeProvider time)
{
    // Between two tries of a call that failed on its way (a connection being made again, a slot moving).
    private static readonly TimeSpan s_retryPause = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Decides <paramref name="group"/> of <paramref name="request"/>. When the group is the whole request
    /// (<paramref name="whole"/> holds it), the request is settled and counted here too, and the result says whether it
    /// is admitted; otherwise the result is <see langword="false"/> and the caller settles.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> DecideAsync(StoreGroup group, LimitRequest request, TokenBucketOptions options, CancellationToken cancellationToken, StoreGroup[]? whole = null)
    {
        var node = group.Node;
        if (!node.Breaker.TryEnter(out var isProbe))
        {
            group.Outcome = GroupOutcome.Failed;
            return whole is not null && settlement.Finish(request, whole, options);
        }
        var members = group.Members;
        var keys = group.Keys!;
        var charges = members.Length == request.Count ? request.ChargeBuffer : new BucketCharge[members.Length];
        for (var m = 0; m < members.Length; m++)
        {
            var policy = request.Policy(members[m]);
            charges[m] = new BucketCharge(policy, policy.Cost, debts.Take(policy, request.Key(members[m])), request.Shadow(members[m]));
        }
        // A group that is the whole request (no cluster, or one slot) reads its answer straight into the request's.
        var decisions = members.Length == request.Count ? request.DecisionBuffer : new RateLimitDecision[members.Length];
        var sentAt = time.GetTimestamp();
        try
        {
            var budget = wait.Ticks(options.Timeout);
            var longest = sentAt + budget * ReplyWait.LongestWait;
            var budgetEnd = sentAt + budget;
            var lateRetries = 0;
            ScriptReply reply;
            while (true)
            {
                var deadline = redis.UsesServerClock ? node.Clock.ToServer(Microseconds(budgetEnd)) : 0;
                PendingCall call;
                try
                {
                    // Waited on in place, woken by the shared watch: no task or timer of its own.
                    call = redis.Send(keys, charges.AsSpan(0, keys.Length), deadline, options.Batching, options.Timeout / 4);
                    var until = budgetEnd;
                    while (!await call.WaitAsync(watch, until, cancellationToken).ConfigureAwait(false) && !call.IsAnswered)
                    {
                        // Woken without the answer (and it did not come in meanwhile): wait on, or give up.
                        if (cancellationToken.IsCancellationRequested || !wait.KeepWaiting(node, ref until, longest, options.Timeout, call.LaneAnswer))
                        {
                            call.Abandon();
                            cancellationToken.ThrowIfCancellationRequested();
                            throw new TimeoutException($"No answer within {options.Timeout.TotalMilliseconds} ms.");
                        }
                    }
                    reply = TokenBucketScript.Read(call.Result, decisions.AsSpan(0, keys.Length));
                }
                catch (Exception e) when (IsTransient(e) && time.GetTimestamp() + wait.Ticks(s_retryPause) < budgetEnd)
                {
                    await Task.Delay(s_retryPause, time, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var now = time.GetTimestamp();
                // A batched call waits on this process twice over, for the replies in front of it to be read and for its
                // own: when it comes back late, that is this process's doing however idle its thread pool looks, and it
                // goes again while the longest wait lasts (a late call took nothing, and the late reply shows Redis there).
                if (reply.Status != ScriptStatus.Late || now >= longest || (lateRetries > 0 && !ReplyWait.IsBehind && !call.Batched))
                {
                    break;
                }
                lateRetries++;
                node.Clock.Observe(Microseconds(sentAt), Microseconds(now), reply.ServerNow);
                budgetEnd = now + budget;
            }
            var seen = time.GetTimestamp();
            outcomes.Answered(node, sentAt, seen, reply.Status == ScriptStatus.Late ? "late" : "success");
            if (reply.ServerNow > 0)
            {
                node.Clock.Observe(Microseconds(sentAt), Microseconds(seen), reply.ServerNow);
            }
            if (reply.Status == ScriptStatus.Late)
            {
                OweAgain(request, members, charges);
                outcomes.Late(group, request, options.Timeout, seen);
            }
            else
            {
                outcomes.Decided(group, request, decisions.AsSpan(0, keys.Length), sentAt, options);
                if (debts.Any)
                {
                    debts.ChargeBack();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; that says nothing about the store, but a probe must hand its turn on. The call
            // may or may not have charged the debts: owing them again can only make the buckets stricter.
            OweAgain(request, members, charges);
            if (isProbe)
            {
                node.Breaker.AbandonProbe();
            }
            if (whole is not null)
            {
                counter.CountCanceled(request);
            }
            throw;
        }
        catch (Exception e)
        {
            OweAgain(request, members, charges);
            // Charged to the slot's owner as it is known now: news of a move, or of the owner's failure, may have come
            // with this very failure (a MOVED reply while the owner is down). A probe of the circuit it left ends there.
            var owner = circuits.Of(redis.OwnerOf(group.Slot), group.Slot);
            if (!ReferenceEquals(owner, node))
            {
                if (isProbe)
                {
                    node.Breaker.AbandonProbe();
                }
                group.Node = owner;
            }
            outcomes.Failed(group, request, e, sentAt, options.Timeout);
        }
        return whole is not null && settlement.Finish(request, whole, options);
    }

    // The call may not have charged its debts: they are owed again, which can only make the buckets stricter.
    private void OweAgain(LimitRequest request, int[] members, BucketCharge[] charges)
    {
        for (var m = 0; m < members.Length; m++)
        {
            debts.Owe(charges[m].Policy, request.Key(members[m]), charges[m].Debt);
        }
    }

    // Failures of a call on its way, which the same call sent again may not meet: the connection is being made again,
    // the slot moved or is moving, a failover is in progress.
    private static bool IsTransient(Exception e) => e switch
    {
        RedisConnectionException => true,
        RedisServerException server => server.Message.StartsWith("MOVED", StringComparison.Ordinal)
            || server.Message.StartsWith("ASK", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || server.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("READONLY", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal),
        _ => false,
    };

    private long Microseconds(long timestamp) => (long)(timestamp * (1_000_000d / time.TimestampFrequency));
}
