namespace RateGuard.Stores;

internal static class UnixClock
{
    /// <summary>The provider's current time in whole microseconds since the Unix epoch.</summary>
    public static long NowMicroseconds(TimeProvider time) =>
        (time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
}
