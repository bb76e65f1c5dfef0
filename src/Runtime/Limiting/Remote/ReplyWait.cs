using RateGuard.Limiting.Circuits;

namespace RateGuard.Limiting.Remote;

/// <summary>
/// How long a call to the store is waited for. The budget is for a slow or absent store, never for a slow process: a
/// reply is a decision, however late this process gets round to reading it. So the wait goes past the budget, a step at
/// a time and up to <see cref="LongestWait"/> budgets in all, while the reply is plausibly on its way: this process is
/// behind (work waits in the thread pool's queue, or this wake-up itself came late), or the server keeps answering the
/// calls in front of it. A server that stopped answering, seen by a process that keeps up, gets no more than the budget
/// (a call sent just before a hang, up to twice that).
/// </summary>
internal sealed class ReplyWait(TimeProvider time)
{
    /// <summary>How many budgets a call may wait in all while this process is too busy to read its reply.</summary>
    public const int LongestWait = 20;

    // Work items waiting in the thread pool that mean this process is behind, not merely busy.
    private static readonly int s_busyQueue = Math.Max(16, 4 * Environment.ProcessorCount);

    /// <summary>Whether this process is behind: work is queuing for the thread pool, so replies wait to be read and calls to be written.</summary>
    public static bool IsBehind => ThreadPool.PendingWorkItemCount >= s_busyQueue;

    /// <summary>
    /// Whether to wait on past <paramref name="until"/> for a reply that has not come, and if so till when (moved on by
    /// a quarter of <paramref name="budget"/>), as long as the wait stays before <paramref name="longest"/>.
    /// </summary>
    /// <param name="node">The server the call went to: when it last answered anything.</param>
    /// <param name="until">The end of the wait so far; moved on when the answer is yes.</param>
    /// <param name="longest">The end of the longest wait.</param>
    /// <param name="budget">The call's budget.</param>
    /// <param name="laneAnswer">When the calls in front of a batched one were last answered (<see cref="long.MinValue"/> for none).</param>
    public bool KeepWaiting(StoreNode node, ref long until, long longest, TimeSpan budget, long laneAnswer = long.MinValue)
    {
        var now = time.GetTimestamp();
        var step = budget / 4;
        var lastAnswer = Math.Max(node.LastReply, laneAnswer);
        var answering = lastAnswer != long.MinValue && time.GetElapsedTime(lastAnswer, now) < budget;
        if (now < longest && (IsBehind || answering || time.GetElapsedTime(until, now) > step))
        {
            until = now + Ticks(step);
            return true;
        }
        return false;
    }

    /// <summary><paramref name="span"/> in ticks of the clock's timestamps.</summary>
    public long Ticks(TimeSpan span) => (long)(span.TotalSeconds * time.TimestampFrequency);
}
