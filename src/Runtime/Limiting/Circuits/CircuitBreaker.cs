namespace RateGuard.Limiting.Circuits;

/// <summary>
/// Stops calling a failing store: after <c>threshold</c> consecutive failures it opens for a break, then lets one
/// request probe; a success closes it, a failure opens it again. Closed, it costs one volatile read per decision.
/// </summary>
/// <remarks>
/// Failures are counted as events, not as calls: a call sent before the last counted failure was already in flight
/// when it happened, and fails with it (a reset connection fails every call on it at once). Only a call sent after it
/// can tell whether the store is still failing.
/// </remarks>
internal sealed class CircuitBreaker(int threshold, TimeSpan breakDuration, TimeProvider time)
{
    private readonly object _gate = new();
    private volatile int _state;
    private int _failures;
    private long _openedAt;
    private long _lastFailureAt = long.MinValue;

    public CircuitState State => (CircuitState)_state;

    /// <summary>How long the current break has left; zero when the circuit is not open.</summary>
    public TimeSpan RemainingBreak
    {
        get
        {
            if (_state != (int)CircuitState.Open)
            {
                return TimeSpan.Zero;
            }
            var left = breakDuration - time.GetElapsedTime(Volatile.Read(ref _openedAt));
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>
    /// Raised with the new state when the circuit opens after being closed, or closes. A probe that fails opens it
    /// again without a word: that is no news.
    /// </summary>
    public event Action<CircuitState>? Changed;

    /// <summary>
    /// Whether this request may call the store. When the break is over, the first caller becomes the probe
    /// (<paramref name="isProbe"/>), and must end with <see cref="OnSuccess"/>, <see cref="OnFailure"/> or
    /// <see cref="AbandonProbe"/>.
    /// </summary>
    public bool TryEnter(out bool isProbe)
    {
        isProbe = false;
        if (_state == (int)CircuitState.Closed)
        {
            return true;
        }
        lock (_gate)
        {
            if (_state == (int)CircuitState.Open && time.GetElapsedTime(_openedAt) >= breakDuration)
            {
                _state = (int)CircuitState.HalfOpen;
                isProbe = true;
                return true;
            }
            return false;
        }
    }

    /// <summary>The probe ended without telling anything about the store (its client went away): let the next request probe.</summary>
    public void AbandonProbe()
    {
        lock (_gate)
        {
            if (_state == (int)CircuitState.HalfOpen)
            {
                _state = (int)CircuitState.Open; // the break is already over, so the next caller probes
            }
        }
    }

    public void OnSuccess()
    {
        if (_state == (int)CircuitState.Closed && Volatile.Read(ref _failures) == 0)
        {
            return;
        }
        bool closed;
        lock (_gate)
        {
            closed = _state != (int)CircuitState.Closed;
            _state = (int)CircuitState.Closed;
            _failures = 0;
        }
        if (closed)
        {
            Changed?.Invoke(CircuitState.Closed);
        }
    }

    /// <summary>A call sent at <paramref name="sentAt"/> (a timestamp of the breaker's clock) failed.</summary>
    public void OnFailure(long sentAt)
    {
        bool opened;
        lock (_gate)
        {
            if (sentAt < _lastFailureAt)
            {
                return; // in flight when the last counted failure happened: the same event
            }
            var now = time.GetTimestamp();
            _lastFailureAt = now;
            var reopened = _state == (int)CircuitState.HalfOpen;
            opened = _state == (int)CircuitState.Closed && ++_failures >= threshold;
            if (opened || reopened)
            {
                _state = (int)CircuitState.Open;
                Volatile.Write(ref _openedAt, now);
            }
        }
        if (opened)
        {
            Changed?.Invoke(CircuitState.Open);
        }
    }
}
