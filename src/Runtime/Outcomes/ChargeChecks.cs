using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using RateGuard.Diagnostics;

namespace RateGuard.Outcomes;

/// <summary>
/// What a charge the handler reports must respect, and what happens when it does not: in development an exception that
/// names the mistake, elsewhere the charge clamped and logged at most once a minute per bucket.
/// </summary>
internal sealed class ChargeChecks(bool development, ILogger logger)
{
    private static readonly long s_quiet = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;
    private readonly ConcurrentDictionary<string, long> _due = new(StringComparer.Ordinal);

    /// <summary>
    /// The whole tokens a report of <paramref name="tokens"/> adds (rounded up), or 0 for a report that is negative or
    /// not a number, which throws in development.
    /// </summary>
    public double Checked(string bucket, double tokens)
    {
        if (double.IsFinite(tokens) && tokens >= 0)
        {
            return tokens;
        }
        var reason = double.IsNaN(tokens) ? "a cost is a number" : "a cost is finite and not negative";
        if (development)
        {
            throw new ArgumentOutOfRangeException(nameof(tokens), tokens, $"Bucket '{bucket}': a request cannot be charged {tokens.ToString(CultureInfo.InvariantCulture)} tokens: {reason}.");
        }
        Clamped(bucket, tokens, 0, reason + ", so the report counts as 0");
        return 0;
    }

    /// <summary>
    /// The tokens a request whose reports add up to <paramref name="total"/> is charged on a limit of
    /// <paramref name="maxCost"/>: the total rounded up, at most the maximum, which throws in development when passed.
    /// </summary>
    public long Bounded(string bucket, double total, int maxCost)
    {
        var whole = Math.Ceiling(total);
        if (whole <= maxCost)
        {
            return (long)whole;
        }
        if (development)
        {
            throw new ArgumentOutOfRangeException(nameof(total), total, $"Bucket '{bucket}': a request cannot be charged {total.ToString(CultureInfo.InvariantCulture)} tokens; its limit allows at most {maxCost} (MaxCost).");
        }
        Clamped(bucket, total, maxCost, $"the limit allows at most {maxCost} per request (MaxCost)");
        return maxCost;
    }

    private void Clamped(string bucket, double reported, long charged, string reason)
    {
        var now = Environment.TickCount64;
        if (_due.TryGetValue(bucket, out var due))
        {
            if (now < due || !_due.TryUpdate(bucket, now + s_quiet, due))
            {
                return;
            }
        }
        else if (_due.Count >= 10_000 || !_due.TryAdd(bucket, now + s_quiet))
        {
            return;
        }
        Log.ChargeClamped(logger, bucket, reported.ToString(CultureInfo.InvariantCulture), charged, reason);
    }
}
