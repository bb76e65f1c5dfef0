using System;

namespace RateGuard;

/// <summary>
/// Which responses a limit counts (<see cref="TokenBucketAttribute.Count"/>): every response, failures only, or the
/// status codes listed. A request is charged its cost before it runs, as always, and given it back once its response
/// turns out not to count.
/// </summary>
public static class TokenBucketCount
{
    /// <summary>Every response counts: the default.</summary>
    public const string All = "all";

    /// <summary>Only failures count: a status code of 400 or above, or an exception (counted as 500).</summary>
    public const string Failures = "failures";

    /// <summary>The forms a count takes, for messages.</summary>
    public const string ValidForms = "\"all\", \"failures\", or status codes and ranges such as \"401,403,500-599\" (each from 100 to 999)";

    /// <summary>The lowest status code a count may list.</summary>
    public const int MinStatus = 100;

    /// <summary>The highest status code a count may list.</summary>
    public const int MaxStatus = 999;

    /// <summary>
    /// Reads <paramref name="count"/>: <see langword="true"/> with <paramref name="counted"/> <see langword="null"/> for
    /// every response (<c>"all"</c>), or with one flag per status code from 0 to <see cref="MaxStatus"/>, set for those
    /// that count. Case and spaces around each item do not matter. <see langword="false"/> for anything else.
    /// </summary>
    public static bool TryParse(string? count, out bool[]? counted)
    {
        counted = null;
        if (count is null)
        {
            return false;
        }
        var trimmed = count.Trim();
        if (string.Equals(trimmed, All, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        var flags = new bool[MaxStatus + 1];
        if (string.Equals(trimmed, Failures, StringComparison.OrdinalIgnoreCase))
        {
            for (var status = 400; status <= MaxStatus; status++)
            {
                flags[status] = true;
            }
            counted = flags;
            return true;
        }
        foreach (var item in trimmed.Split(','))
        {
            var part = item.Trim();
            var dash = part.IndexOf('-');
            var first = dash < 0 ? part : part.Substring(0, dash).Trim();
            var last = dash < 0 ? part : part.Substring(dash + 1).Trim();
            if (!TryStatus(first, out var from) || !TryStatus(last, out var to) || to < from)
            {
                return false;
            }
            for (var status = from; status <= to; status++)
            {
                flags[status] = true;
            }
        }
        counted = flags;
        return true;
    }

    private static bool TryStatus(string text, out int status)
    {
        status = 0;
        if (text.Length != 3)
        {
            return false;
        }
        foreach (var c in text)
        {
            if (c < '0' || c > '9')
            {
                return false;
            }
            status = status * 10 + (c - '0');
        }
        return status >= MinStatus;
    }
}
