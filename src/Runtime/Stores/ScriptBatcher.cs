using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>
/// Sends the token-bucket decisions for one lane (a Redis server, or one cluster slot, since the keys of one script
/// call must share a slot) as few script calls as keeps them prompt: a decision that arrives while no call of its lane
/// is in flight goes out at once, alone; the ones that arrive while a call is in flight wait for it to come back, then
/// go out together as one call, in arrival order. The script decides a call's requests one after another, atomically,
/// each exactly as it would have been alone in that order.
/// </summary>
/// <remarks>
/// A call holds at most <see cref="MostRequests"/> requests; when that many are waiting they go out at once, behind the
/// call in flight on the same connection, which keeps their order. So do the requests of a lane whose newest call has
/// been out longer than a request's <see cref="PendingCall.Stall"/>: requests queued behind calls that may never come
/// back (a hung server, a connection being made again) go out on their own and meet their deadlines there, rather
/// than waiting for them. That is one more call a stall, however many requests arrive meanwhile: a lane whose replies
/// are read late (an overloaded process) still sends few calls, each of many requests, never one call a request. Each
/// request keeps its own deadline on the server's clock, so a batch can never take tokens for a request nobody waits
/// for; a request whose caller stopped waiting before its batch was sent is left out of it
/// (<see cref="PendingCall.Abandon"/>). The time a request spent queued here is this process's, not the server's: its
/// deadline goes out moved on by that wait, so that a process slow to read the reply in front of it does not make Redis
/// find it late. It still cannot take tokens for a caller that gave up before it went out, since such a request is
/// left out.
/// </remarks>
/// <param name="clock">The clock of queueing and answers: the limiter's, so that its budgets and these times agree.</param>
/// <param name="clientClock">The clock whose time each call carries, or <see langword="null"/> for the server's.</param>
internal sealed class ScriptBatcher(TimeProvider clock, TimeProvider? clientClock)
{
    /// <summary>The most requests one script call carries.</summary>
    public const int MostRequests = 64;

    // One lane per cluster slot, and index 0 for a server without a cluster; made on first use.
    private readonly Lane?[] _lanes = new Lane?[16385];

    /// <summary>Queues <paramref name="call"/>, whose keys share <paramref name="slot"/> (-1 without a cluster), for <paramref name="database"/>.</summary>
    public void Enqueue(IDatabaseAsync database, int slot, PendingCall call)
    {
        var lane = LaneOf(slot);
        // One reading of the clock: when the request was queued, and when its call goes out if it goes at once.
        var now = clock.GetTimestamp();
        call.EnterLane(lane, now);
        List<PendingCall>? batch = null;
        lock (lane)
        {
            if (lane.InFlight == 0)
            {
                batch = [call];
            }
            else
            {
                lane.Waiting.Add(call);
                if (lane.Waiting.Count >= MostRequests || clock.GetElapsedTime(lane.LastSentAt, now) > call.Stall)
                {
                    batch = lane.TakeWaiting();
                }
            }
            if (batch is not null)
            {
                lane.Sending(now);
            }
        }
        if (batch is not null)
        {
            _ = SendAsync(database, lane, batch);
        }
    }

    /// <summary>Sends <paramref name="call"/> at once as a call of its own, whatever else is in flight.</summary>
    public void SendAlone(IDatabaseAsync database, PendingCall call) => _ = SendAsync(database, null, [call]);

    private Lane LaneOf(int slot)
    {
        var index = slot + 1;
        return Volatile.Read(ref _lanes[index]) ?? Interlocked.CompareExchange(ref _lanes[index], new Lane(), null) ?? _lanes[index]!;
    }

    // Sends a batch, then, as each call comes back, the requests that waited for it, until none wait. Never throws: a
    // failure of any kind fails the requests of the call it ended.
    private async Task SendAsync(IDatabaseAsync database, Lane? lane, List<PendingCall>? batch)
    {
        while (batch is not null)
        {
            var sending = Claim(batch);
            if (sending.Count > 0)
            {
                try
                {
                    var (keys, args) = Arguments(sending, clock.GetTimestamp());
                    var items = (RedisResult[])(await TokenBucketScript.Script.EvaluateAsync(database, keys, args).ConfigureAwait(false))!;
                    lane?.Answered(clock.GetTimestamp());
                    Complete(sending, items);
                }
                catch (Exception e)
                {
                    // One call, one outcome: the script runs whole or not at all, so every request in it failed alike.
                    foreach (var call in sending)
                    {
                        call.Fail(e);
                    }
                }
            }
            if (lane is null)
            {
                return;
            }
            lock (lane)
            {
                batch = lane.Sent();
                if (batch is not null)
                {
                    lane.Sending(clock.GetTimestamp());
                }
            }
        }
    }

    // The requests of a batch whose callers still wait; from here on none of them can be left out.
    private static List<PendingCall> Claim(List<PendingCall> batch)
    {
        var kept = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i].TryClaim())
            {
                batch[kept++] = batch[i];
            }
        }
        batch.RemoveRange(kept, batch.Count - kept);
        return batch;
    }

    private (RedisKey[] Keys, RedisValue[] Args) Arguments(List<PendingCall> batch, long sentAt)
    {
        var buckets = 0;
        foreach (var call in batch)
        {
            buckets += call.Charges.Length;
        }
        var keys = new RedisKey[buckets];
        var args = TokenBucketScript.Arguments(batch.Count, buckets, clientClock is null ? null : UnixClock.NowMicroseconds(clientClock));
        var a = TokenBucketScript.FirstRequest;
        var k = 0;
        foreach (var call in batch)
        {
            // The time it waited here is this process's: its deadline goes out moved on by it.
            var deadline = call.Deadline == 0 || call.QueuedAt == 0 ? call.Deadline : call.Deadline + (long)clock.GetElapsedTime(call.QueuedAt, sentAt).TotalMicroseconds;
            a = TokenBucketScript.WriteRequest(args, a, deadline, call.Charges);
            call.Keys.CopyTo(keys.AsSpan(k));
            k += call.Charges.Length;
        }
        return (keys, args);
    }

    private static void Complete(List<PendingCall> batch, RedisResult[] items)
    {
        var offset = 1;
        foreach (var call in batch)
        {
            call.Answer(new ScriptResult(items, offset));
            offset += TokenBucketScript.ReplyLength(call.Charges.Length);
        }
    }

    /// <summary>The calls of one lane: how many are out, since when, when one was last answered, and the requests waiting for the next.</summary>
    internal sealed class Lane
    {
        private long _lastAnswer = long.MinValue;

        /// <summary>When a call of this lane was last answered, on the batcher's clock; <see cref="long.MinValue"/> before any.</summary>
        public long LastAnswer => Volatile.Read(ref _lastAnswer);

        public void Answered(long now) => Volatile.Write(ref _lastAnswer, now);

        public List<PendingCall> Waiting { get; private set; } = [];

        public int InFlight { get; private set; }

        /// <summary>When the newest call in flight went out.</summary>
        public long LastSentAt { get; private set; }

        public List<PendingCall> TakeWaiting()
        {
            var waiting = Waiting;
            Waiting = [];
            return waiting;
        }

        public void Sending(long now)
        {
            InFlight++;
            LastSentAt = now;
        }

        // A call came back: the requests that waited for it go next, when no other call is out.
        public List<PendingCall>? Sent()
        {
            InFlight--;
            return InFlight == 0 && Waiting.Count > 0 ? TakeWaiting() : null;
        }
    }
}
