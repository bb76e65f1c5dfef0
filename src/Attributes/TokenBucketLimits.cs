namespace RateGuard;

/// <summary>
/// The limits a token bucket must respect. The runtime enforces them when a policy is built, and the generator and the
/// analyzer check them at compile time, all through this one type.
/// </summary>
public static class TokenBucketLimits
{
    /// <summary>The highest rate a bucket can refill at: one token per microsecond.</summary>
    public const double MaxRate = 1_000_000d;

    /// <summary>
    /// The longest time an empty bucket may take to fill (<c>capacity / rate</c>), in microseconds: 100 years. It keeps
    /// every time the stores compute below 2^53 microseconds, where Lua's doubles and C#'s longs agree exactly.
    /// </summary>
    public const double MaxWindowMicroseconds = 36525d * 86_400 * 1_000_000;

    /// <summary>The longest bucket name, in characters.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Whether <paramref name="capacity"/> is a valid capacity: at least one token.</summary>
    public static bool IsValidCapacity(int capacity) => capacity > 0;

    /// <summary>Whether <paramref name="rate"/> is a valid rate: finite, above 0 and at most <see cref="MaxRate"/>.</summary>
    public static bool IsValidRate(double rate) => !double.IsNaN(rate) && !double.IsInfinity(rate) && rate > 0 && rate <= MaxRate;

    /// <summary>Whether <paramref name="cost"/> is a valid cost: at least one token.</summary>
    public static bool IsValidCost(int cost) => cost > 0;

    /// <summary>
    /// Whether <paramref name="maxCost"/> is a valid bound on what one request may be charged after the fact: 0 (the
    /// handler cannot charge), or at least <paramref name="cost"/>, and owed within <see cref="MaxWindowMicroseconds"/>
    /// at <paramref name="rate"/>.
    /// </summary>
    public static bool IsValidMaxCost(int maxCost, int cost, double rate) =>
        maxCost == 0 || (maxCost > 0 && maxCost >= cost && (!IsValidRate(rate) || maxCost * (1_000_000d / rate) <= MaxWindowMicroseconds));

    /// <summary>Whether an empty bucket of <paramref name="capacity"/> at <paramref name="rate"/> fills within <see cref="MaxWindowMicroseconds"/>.</summary>
    public static bool IsValidWindow(int capacity, double rate) => capacity * (1_000_000d / rate) <= MaxWindowMicroseconds;

    /// <summary>
    /// Whether <paramref name="name"/> is a valid bucket name: 1 to <see cref="MaxNameLength"/> letters, digits or
    /// <c>. _ - /</c>, so it can never break the shape of a Redis key.
    /// </summary>
    public static bool IsValidBucketName(string? name)
    {
        if (name is null || name.Length == 0 || name.Length > MaxNameLength)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!IsBucketNameChar(c))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Whether <paramref name="c"/> may appear in a bucket name: an ASCII letter or digit, or <c>. _ - /</c>.</summary>
    public static bool IsBucketNameChar(char c) =>
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c is '.' or '_' or '-' or '/';
}
