namespace RateGuard.Limiting.Circuits;

/// <summary>
/// Decides which store failures are written to the log: the first, then at most one line per period with the count
/// of those left out. A store that fails every request under load would otherwise write thousands of lines a second.
/// </summary>
internal sealed class FailureLog
{
    /// <summary>The shortest time between two failure lines of one server.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    private long _lastWritten = long.MinValue;
    private int _suppressed;

    /// <summary>
    /// Whether a failure at <paramref name="now"/> should be written; when it should, <paramref name="suppressed"/>
    /// is how many were left out since the last one.
    /// </summary>
    public bool ShouldWrite(long now, TimeProvider time, out int suppressed)
    {
        var last = Volatile.Read(ref _lastWritten);
        if ((last == long.MinValue || time.GetElapsedTime(last, now) >= Period) && Interlocked.CompareExchange(ref _lastWritten, now, last) == last)
        {
            suppressed = Interlocked.Exchange(ref _suppressed, 0);
            return true;
        }
        Interlocked.Increment(ref _suppressed);
        suppressed = 0;
        return false;
    }

    /// <summary>How many failures were left out since the last line, taking them (for a closing summary).</summary>
    public int TakeSuppressed() => Interlocked.Exchange(ref _suppressed, 0);
}
