using System.Globalization;

namespace RateGuard.Clients;

/// <summary>
/// What an override may be: its capacity and rate follow the rules of every limit (<see cref="TokenBucketLimits"/>),
/// its capacity holds at least one request of its bucket, it lasts a bounded time, and it names a client value of a
/// bounded length. The operations service checks them; the admin API answers with the same messages.
/// </summary>
internal static class ClientOverrideRules
{
    /// <summary>The longest an override lasts: set it again before it ends to keep it longer.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(365);

    /// <summary>The longest client value an override names, in characters: every instance holds each one in memory.</summary>
    public const int MaxKeyLength = 1024;

    /// <summary>Throws when an override of <paramref name="key"/> with these values cannot be kept.</summary>
    /// <param name="key">The client value.</param>
    /// <param name="capacity">The override's capacity.</param>
    /// <param name="rate">The override's rate.</param>
    /// <param name="expiresAfter">How long it lasts.</param>
    /// <param name="bucket">The bucket, by name.</param>
    /// <param name="cost">What one request to the bucket takes, when known.</param>
    /// <exception cref="ArgumentException">The client value is empty or too long.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The capacity, rate or lifetime is out of range.</exception>
    public static void ThrowIfInvalid(string key, int capacity, double rate, TimeSpan expiresAfter, string bucket, int? cost)
    {
        if (key.Length == 0)
        {
            throw new ArgumentException("The client value is empty: an override names a client value as the limit reads it (an IP address, a user name, a header's value).", nameof(key));
        }
        if (key.Length > MaxKeyLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The client value is {key.Length:#,0} characters long: an override names a client value of at most {MaxKeyLength:#,0}, since every instance holds it in memory."), nameof(key));
        }
        if (!TokenBucketLimits.IsValidCapacity(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), $"The override's capacity {capacity} is invalid: {LimitRules.Capacity}.");
        }
        if (!TokenBucketLimits.IsValidRate(rate))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), $"The override's rate {rate.ToString(CultureInfo.InvariantCulture)} is invalid: {LimitRules.Rate}.");
        }
        if (!TokenBucketLimits.IsValidWindow(capacity, rate))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), $"The override's capacity {capacity} at rate {rate.ToString(CultureInfo.InvariantCulture)} is invalid: {LimitRules.Window}.");
        }
        if (cost > capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity),
                $"The override's capacity {capacity} is below the {cost} tokens one request to bucket '{bucket}' takes, so the client could never be admitted: give a capacity of at least {cost}.");
        }
        ThrowIfInvalidLifetime(expiresAfter.TotalSeconds, nameof(expiresAfter));
    }

    /// <summary>Throws when an override cannot last <paramref name="seconds"/>: more than 0, at most <see cref="MaxLifetime"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The lifetime is out of range.</exception>
    public static void ThrowIfInvalidLifetime(double seconds, string parameter = "expiresAfterSeconds")
    {
        if (!(seconds > 0 && seconds <= MaxLifetime.TotalSeconds))
        {
            var shown = seconds.ToString(Math.Abs(seconds) < 1e12 ? "0.###" : "G6", CultureInfo.InvariantCulture);
            throw new ArgumentOutOfRangeException(parameter, string.Create(CultureInfo.InvariantCulture,
                $"The override's lifetime of {shown} s is invalid: an override lasts more than 0 seconds and at most {MaxLifetime.TotalDays:0} days ({MaxLifetime.TotalSeconds:0} s); set it again before it ends to keep it longer."));
        }
    }
}
