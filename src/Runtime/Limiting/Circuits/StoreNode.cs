using RateGuard.Stores;

namespace RateGuard.Limiting.Circuits;

/// <summary>
/// One server of the store as the limiter sees it: its circuit, its clock and when it last answered. A fault on one Redis
/// server opens only its own circuit, so only the buckets whose keys live there get the failure mode.
/// </summary>
internal sealed class StoreNode(string name, CircuitBreaker breaker)
{
    private long _lastReply = long.MinValue;

    /// <summary>The server's endpoint, or a name for a store that is not Redis, for logs and metrics.</summary>
    public string Name { get; } = name;

    public CircuitBreaker Breaker { get; } = breaker;

    /// <summary>How far the server's clock is from this process's, for the deadlines the script honours.</summary>
    public RedisClockOffset Clock { get; } = new();

    /// <summary>Summarises repeated failures, so a flood of them is a few log lines, not one per request.</summary>
    public FailureLog Failures { get; } = new();

    /// <summary>When this process last saw a reply from the server (a timestamp), or <see cref="long.MinValue"/>.</summary>
    public long LastReply => Volatile.Read(ref _lastReply);

    /// <summary>Notes a reply seen at <paramref name="timestamp"/>.</summary>
    public void Replied(long timestamp)
    {
        if (timestamp > Volatile.Read(ref _lastReply))
        {
            Volatile.Write(ref _lastReply, timestamp); // a race may keep an older one: close enough for "recently"
        }
    }

    /// <summary>Marks the connection made again: its clock may be another machine's now.</summary>
    public void Restored() => Clock.Reset();
}
