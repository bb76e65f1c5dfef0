namespace RateGuard.Stores;

/// <summary>
/// How far one Redis server's clock is ahead of this process's, learned from the replies the script sends back, so
/// that a deadline taken on this process's clock can be handed to the script on the server's.
/// </summary>
/// <remarks>
/// Each reply carries the server's time when it ran. It ran after the request was sent and before its reply was seen
/// here, so the true offset lies between <c>now − seen</c> and <c>now − sent</c>. The estimate is the least upper bound
/// seen so far: it can only err towards a later deadline, by at most the quickest one-way trip. A lower bound above
/// the estimate proves the estimate wrong (the server changed, or its clock stepped), and the estimate starts again
/// from that reply's upper bound. Replies read late, as on an overloaded process, widen only the lower bound, which
/// cannot move the estimate.
/// </remarks>
internal sealed class RedisClockOffset
{
    private const long Unknown = long.MinValue;

    private long _offset = Unknown;

    /// <summary>The server time, in µs, at this process's <paramref name="localMicroseconds"/>; 0 while unknown.</summary>
    public long ToServer(long localMicroseconds)
    {
        var offset = Volatile.Read(ref _offset);
        return offset == Unknown ? 0 : localMicroseconds + offset;
    }

    /// <summary>Learns from one reply: the request left at <paramref name="sent"/>, the server ran it at <paramref name="serverNow"/>, the reply was seen at <paramref name="seen"/>.</summary>
    public void Observe(long sent, long seen, long serverNow)
    {
        var upper = serverNow - sent;
        var lower = serverNow - seen;
        while (true)
        {
            var current = Volatile.Read(ref _offset);
            if (current != Unknown && upper >= current && lower <= current)
            {
                return; // consistent, and no tighter
            }
            if (Interlocked.CompareExchange(ref _offset, upper, current) == current)
            {
                return;
            }
        }
    }

    /// <summary>Forgets the estimate, as after a reconnect, which may reach another machine.</summary>
    public void Reset() => Volatile.Write(ref _offset, Unknown);
}
