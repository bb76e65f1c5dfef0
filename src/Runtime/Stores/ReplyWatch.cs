namespace RateGuard.Stores;

/// <summary>
/// Wakes the callers parked on <see cref="PendingCall"/>s when their time comes: one timer for all of them, set for the
/// earliest, where a timer per call would cost every decision a timer and a task of its own.
/// </summary>
/// <remarks>
/// Most calls are answered long before their time; they stay listed until the timer next fires and are dropped then,
/// so the timer fires about once a budget while calls come and go, and never while none waits.
/// </remarks>
internal sealed class ReplyWatch : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly List<PendingCall> _listed = [];
    private long _due = long.MaxValue;

    public ReplyWatch(TimeProvider time)
    {
        _time = time;
        _timer = time.CreateTimer(static state => ((ReplyWatch)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Wakes <paramref name="call"/> at <paramref name="wakeAt"/> (a timestamp of this watch's clock) if it is still parked then.</summary>
    public void Park(PendingCall call, long wakeAt)
    {
        lock (_timer)
        {
            if (!call.Watched)
            {
                call.Watched = true;
                _listed.Add(call);
            }
            if (wakeAt < _due)
            {
                Schedule(wakeAt);
            }
        }
    }

    private void Fire()
    {
        List<PendingCall>? due = null;
        lock (_timer)
        {
            var now = _time.GetTimestamp();
            var next = long.MaxValue;
            var kept = 0;
            for (var i = 0; i < _listed.Count; i++)
            {
                var call = _listed[i];
                if (!call.IsParked(out var wakeAt))
                {
                    call.Watched = false; // answered, or woken by its token: a later wait lists it again
                }
                else if (wakeAt <= now)
                {
                    call.Watched = false;
                    (due ??= []).Add(call);
                }
                else
                {
                    _listed[kept++] = call;
                    next = Math.Min(next, wakeAt);
                }
            }
            _listed.RemoveRange(kept, _listed.Count - kept);
            _due = long.MaxValue;
            if (next != long.MaxValue)
            {
                Schedule(next);
            }
        }
        foreach (var call in due ?? [])
        {
            call.Wake();
        }
    }

    // Under the lock. Rounded up to the timer's millisecond, so that it never fires before the time it is set for.
    private void Schedule(long due)
    {
        _due = due;
        var now = _time.GetTimestamp();
        var wait = due > now ? Math.Ceiling(_time.GetElapsedTime(now, due).TotalMilliseconds) : 0;
        _timer.Change(TimeSpan.FromMilliseconds(wait), Timeout.InfiniteTimeSpan);
    }

    public void Dispose() => _timer.Dispose();
}
