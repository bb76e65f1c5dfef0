using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;
using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>
/// One request to the token-bucket script, from the moment it is queued until its answer (a part of a script reply, or
/// the failure of the call that carried it). Its caller waits on it without a timer of its own: it parks until the answer
/// comes or until a given time, when one shared <see cref="ReplyWatch"/> wakes it to decide whether to wait on.
/// </summary>
internal sealed class PendingCall : IValueTaskSource<bool>
{
    private const int Queued = 0, Claimed = 1, Abandoned = 2;

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private readonly RedisKey _oneKey;
    private readonly RedisKey[]? _manyKeys;
    private readonly BucketCharge _one;
    private readonly BucketCharge[]? _many;
    private int _sending;
    private bool _answered;
    private ScriptResult _result;
    private ExceptionDispatchInfo? _error;
    private bool _parked;
    private long _wakeAt;
    private CancellationTokenRegistration _canceled;
    private ScriptBatcher.Lane? _lane;

    /// <param name="keys">The request's bucket keys, all in one cluster slot.</param>
    /// <param name="charges">Each bucket's cost and debt, in the order of <paramref name="keys"/>.</param>
    /// <param name="deadline">The server time in µs after which the script must take nothing; 0 for none.</param>
    /// <param name="batched">Whether it may go out with the other requests of its lane rather than as a call of its own.</param>
    /// <param name="stall">How long its lane's newest call may be out before it goes out without waiting for that call.</param>
    public PendingCall(ReadOnlySpan<RedisKey> keys, ReadOnlySpan<BucketCharge> charges, long deadline, bool batched, TimeSpan stall)
    {
        // Copied: the caller's buffers go back to their pool if it stops waiting. One bucket, the common case, is kept
        // in place.
        if (charges.Length == 1)
        {
            _oneKey = keys[0];
            _one = charges[0];
        }
        else
        {
            _manyKeys = keys.ToArray();
            _many = charges.ToArray();
        }
        Deadline = deadline;
        Batched = batched;
        Stall = stall;
    }

    public ReadOnlySpan<RedisKey> Keys => _manyKeys ?? new ReadOnlySpan<RedisKey>(in _oneKey);

    public ReadOnlySpan<BucketCharge> Charges => _many ?? new ReadOnlySpan<BucketCharge>(in _one);

    /// <summary>
    /// The server time in µs after which the script must take nothing for this request, as of when it was queued; 0 for
    /// none. A request that waited for its batch goes out with the deadline moved on by that wait (see
    /// <see cref="ScriptBatcher"/>).
    /// </summary>
    public long Deadline { get; }

    /// <summary>Whether it may go out with the other requests of its lane (<see cref="ScriptBatcher"/>).</summary>
    public bool Batched { get; }

    /// <summary>How long its lane's newest call may be out before it goes out without waiting for that call.</summary>
    public TimeSpan Stall { get; }

    /// <summary>When the batcher queued it, on the batcher's clock.</summary>
    public long QueuedAt { get; private set; }

    /// <summary>
    /// When a call of its lane was last answered, on the batcher's clock; <see cref="long.MinValue"/> before any, and for
    /// a call sent on its own. While its lane's calls are answered, a reply that has not come yet is plausibly on its way.
    /// </summary>
    public long LaneAnswer => _lane?.LastAnswer ?? long.MinValue;

    /// <summary>Notes that the batcher queued it in <paramref name="lane"/> at <paramref name="now"/>.</summary>
    public void EnterLane(ScriptBatcher.Lane lane, long now)
    {
        _lane = lane;
        QueuedAt = now;
    }

    /// <summary>Whether <see cref="WaitAsync"/> may list it with a watch (kept by the watch, under its lock).</summary>
    internal bool Watched { get; set; }

    /// <summary>
    /// Waits for the answer until <paramref name="until"/> (a <see cref="TimeProvider"/> timestamp of the watch's clock)
    /// or until <paramref name="cancellationToken"/> is canceled: <see langword="true"/> once answered (read it with
    /// <see cref="Result"/>), <see langword="false"/> when woken before that. Without a watch it waits for the answer.
    /// Await each wait once, one at a time.
    /// </summary>
    public ValueTask<bool> WaitAsync(ReplyWatch? watch, long until, CancellationToken cancellationToken)
    {
        lock (this)
        {
            if (_answered)
            {
                return new ValueTask<bool>(true);
            }
            if (cancellationToken.IsCancellationRequested)
            {
                return new ValueTask<bool>(false);
            }
            _core.Reset();
            _parked = true;
            _wakeAt = until;
        }
        watch?.Park(this, until);
        if (cancellationToken.CanBeCanceled)
        {
            _canceled = cancellationToken.UnsafeRegister(static state => ((PendingCall)state!).Wake(), this);
        }
        return new ValueTask<bool>(this, _core.Version);
    }

    /// <summary>The answer; throws what failed the call that carried the request.</summary>
    public ScriptResult Result
    {
        get
        {
            _error?.Throw();
            return _result;
        }
    }

    /// <summary>Whether the answer has come (or the call that carried the request failed).</summary>
    public bool IsAnswered
    {
        get
        {
            lock (this)
            {
                return _answered;
            }
        }
    }

    /// <summary>Waits for the answer, however long it takes (for callers that bound the wait themselves).</summary>
    public async Task<ScriptResult> AnswerAsync()
    {
        await WaitAsync(null, long.MaxValue, CancellationToken.None).ConfigureAwait(false);
        return Result;
    }

    public void Answer(ScriptResult result) => Finish(result, null);

    public void Fail(Exception error) => Finish(default, ExceptionDispatchInfo.Capture(error));

    private void Finish(ScriptResult result, ExceptionDispatchInfo? error)
    {
        lock (this)
        {
            if (_answered)
            {
                return;
            }
            _answered = true;
            _result = result;
            _error = error;
            if (!_parked)
            {
                return;
            }
            _parked = false;
        }
        _core.SetResult(true);
    }

    /// <summary>Ends the current wait without an answer: its time came, or its caller's token was canceled.</summary>
    public void Wake()
    {
        lock (this)
        {
            if (!_parked)
            {
                return;
            }
            _parked = false;
        }
        _core.SetResult(false);
    }

    /// <summary>Whether a caller is parked on it, and until when.</summary>
    public bool IsParked(out long wakeAt)
    {
        lock (this)
        {
            wakeAt = _wakeAt;
            return _parked;
        }
    }

    /// <summary>Whether the request may still go out: true once for the batch that takes it, unless abandoned first.</summary>
    public bool TryClaim() => Interlocked.CompareExchange(ref _sending, Claimed, Queued) == Queued;

    /// <summary>Leaves the request out of its batch if that has not gone yet: its caller stopped waiting.</summary>
    public void Abandon() => Interlocked.CompareExchange(ref _sending, Abandoned, Queued);

    bool IValueTaskSource<bool>.GetResult(short token)
    {
        _canceled.Unregister();
        return _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

/// <summary>A script reply and where one request's part of it starts (its status; the server's time is first).</summary>
internal readonly record struct ScriptResult(RedisResult[] Items, int Offset);
