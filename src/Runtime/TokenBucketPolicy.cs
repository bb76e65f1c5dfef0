using System.Globalization;

namespace RateGuard;

/// <summary>
/// One token bucket: how many tokens it holds, how fast it refills, and what one request costs.
/// Policies with the same <see cref="Name"/> share their buckets.
/// </summary>
/// <remarks>
/// A policy validates itself when it is built, so a misconfigured limit fails at startup and never on a request.
/// Time is kept in whole microseconds: one token is added every <see cref="IntervalMicroseconds"/>, which is
/// <c>1e6 / rate</c> rounded up (a rounding that can only make the limit stricter, and that is exact for every
/// rate whose interval is a whole number of microseconds).
/// </remarks>
public sealed class TokenBucketPolicy
{
    /// <summary>The highest rate a bucket can refill at: one token per microsecond.</summary>
    public const double MaxRate = TokenBucketLimits.MaxRate;

    /// <summary>
    /// The longest time an empty bucket may take to fill (<c>capacity / rate</c>): 100 years. It keeps every time the
    /// stores compute below 2^53 microseconds, where Lua's doubles and C#'s longs agree exactly.
    /// </summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromTicks((long)TokenBucketLimits.MaxWindowMicroseconds * TimeSpan.TicksPerMicrosecond);

    /// <summary>The longest bucket name, in characters.</summary>
    public const int MaxNameLength = TokenBucketLimits.MaxNameLength;

    private string? _keySegment;

    /// <summary>Creates a policy.</summary>
    /// <param name="name">
    /// The bucket name: at most <see cref="MaxNameLength"/> printable ASCII characters other than <c>:</c>, such as
    /// <c>search</c> or <c>GET /items/{id}</c>. It appears in headers, problem details, metrics and logs as it is.
    /// </param>
    /// <param name="capacity">The most tokens the bucket holds, and so the largest burst. Must be positive.</param>
    /// <param name="rate">Tokens added per second. Must be positive, finite and at most <see cref="MaxRate"/>.</param>
    /// <param name="cost">Tokens one request takes. Must be positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A numeric argument is out of range.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, too long or has a character outside the allowed set.</exception>
    public TokenBucketPolicy(string name, int capacity, double rate, int cost = 1)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!TokenBucketLimits.IsValidCapacity(capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"Token bucket '{name}': capacity {capacity} is invalid: {LimitRules.Capacity}.");
        }
        if (!TokenBucketLimits.IsValidRate(rate))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, $"Token bucket '{name}': rate {rate.ToString(CultureInfo.InvariantCulture)} is invalid: {LimitRules.Rate}.");
        }
        if (!TokenBucketLimits.IsValidWindow(capacity, rate))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, $"Token bucket '{name}': capacity {capacity} at rate {rate.ToString(CultureInfo.InvariantCulture)} is invalid: {LimitRules.Window}.");
        }
        if (!TokenBucketLimits.IsValidCost(cost))
        {
            throw new ArgumentOutOfRangeException(nameof(cost), cost, $"Token bucket '{name}': cost {cost} is invalid: {LimitRules.Cost}.");
        }
        ThrowIfInvalidName(name, nameof(name));

        Name = name;
        Capacity = capacity;
        Rate = rate;
        Cost = cost;
        IntervalMicroseconds = ComputeInterval(rate);
    }

    /// <summary>The bucket name; policies with equal names share buckets.</summary>
    public string Name { get; }

    /// <summary>The most tokens the bucket holds.</summary>
    public int Capacity { get; }

    /// <summary>Tokens added per second.</summary>
    public double Rate { get; }

    /// <summary>Tokens one request takes.</summary>
    public int Cost { get; }

    /// <summary>Microseconds between two tokens: <c>1e6 / rate</c>, rounded up to a whole microsecond.</summary>
    public long IntervalMicroseconds { get; }

    /// <summary>Microseconds an empty bucket takes to fill.</summary>
    public long WindowMicroseconds => Capacity * IntervalMicroseconds;

    /// <summary>
    /// Whether <paramref name="name"/> is a valid bucket name: 1 to <see cref="MaxNameLength"/> printable ASCII
    /// characters other than <c>:</c> (which separates configuration keys), not starting or ending with a space.
    /// Names declared in <c>[TokenBucket(Bucket = ...)]</c> keep to the stricter <see cref="TokenBucketLimits.IsValidBucketName"/>;
    /// the names derived from routes also use spaces and braces.
    /// </summary>
    public static bool IsValidName(string? name)
    {
        if (name is null || name.Length == 0 || name.Length > MaxNameLength || name[0] == ' ' || name[^1] == ' ')
        {
            return false;
        }
        foreach (var c in name)
        {
            if (c is < ' ' or > '~' or ':')
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when <paramref name="name"/> is not a valid bucket name.</summary>
    internal static void ThrowIfInvalidName(string name, string parameter)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException($"Token bucket name '{name}' is invalid: {LimitRules.BucketName}.", parameter);
        }
    }

    /// <summary>The name as it appears inside a Redis key (see <see cref="Stores.BucketKey.EncodeName"/>), built once.</summary>
    internal string KeySegment => _keySegment ??= Stores.BucketKey.EncodeName(Name);

    private static long ComputeInterval(double rate)
    {
        var exact = 1_000_000d / rate;
        // Round up so the limit is never looser than asked, but forgive the division's last two ulps of error so
        // that rates such as 1/3600 give exactly 3,600,000,000 µs rather than one more.
        var interval = (long)Math.Ceiling(Math.BitDecrement(Math.BitDecrement(exact)));
        return Math.Max(1, interval);
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name} (capacity {Capacity}, rate {Rate}/s, cost {Cost})");
}
