using System;

namespace RateGuard;

/// <summary>The kinds of key that select a client's bucket.</summary>
public enum TokenBucketKeyKind
{
    /// <summary>The client's remote IP address.</summary>
    Ip,

    /// <summary>The authenticated user's id.</summary>
    User,

    /// <summary>One bucket shared by every client.</summary>
    Global,

    /// <summary>A request header's value.</summary>
    Header,

    /// <summary>A query-string parameter's value.</summary>
    Query,

    /// <summary>A route value.</summary>
    Route,

    /// <summary>A claim of the authenticated user.</summary>
    Claim,
}

/// <summary>
/// The key-source syntax of <see cref="TokenBucketAttribute.Key"/>. The runtime, the generator and the analyzer all
/// parse keys with this one type.
/// </summary>
public static class TokenBucketKey
{
    /// <summary>The remote IP address.</summary>
    public const string Ip = "ip";

    /// <summary>The authenticated user's id.</summary>
    public const string User = "user";

    /// <summary>One bucket for every client.</summary>
    public const string Global = "global";

    /// <summary>The prefix of a header key, as in <c>header:X-Api-Key</c>.</summary>
    public const string HeaderPrefix = "header:";

    /// <summary>The prefix of a query-string key, as in <c>query:tenant</c>.</summary>
    public const string QueryPrefix = "query:";

    /// <summary>The prefix of a route-value key, as in <c>route:tenant</c>.</summary>
    public const string RoutePrefix = "route:";

    /// <summary>The prefix of a claim key, as in <c>claim:sub</c>.</summary>
    public const string ClaimPrefix = "claim:";

    /// <summary>Every valid form, for messages.</summary>
    public const string ValidForms = "\"ip\", \"user\", \"global\", \"header:<Name>\", \"query:<name>\", \"route:<name>\" or \"claim:<type>\"";

    /// <summary>Every valid form of a plan source (<see cref="TokenBucketAttribute.Plan"/>), for messages.</summary>
    public const string ValidPlanForms = "\"header:<Name>\", \"claim:<type>\", \"route:<name>\" or \"query:<name>\"";

    /// <summary>
    /// Parses a plan source such as <c>"claim:plan"</c>: the key forms that read a value from the request, which are
    /// all but <c>ip</c>, <c>user</c> and <c>global</c>.
    /// </summary>
    /// <param name="plan">The plan source text.</param>
    /// <param name="kind">The kind of source.</param>
    /// <param name="argument">The header, query, route or claim name.</param>
    /// <returns>Whether <paramref name="plan"/> is valid.</returns>
    public static bool TryParsePlan(string? plan, out TokenBucketKeyKind kind, out string? argument)
    {
        if (TryParse(plan, out kind, out argument) && kind is TokenBucketKeyKind.Header or TokenBucketKeyKind.Claim or TokenBucketKeyKind.Route or TokenBucketKeyKind.Query)
        {
            return true;
        }
        argument = null;
        return false;
    }

    /// <summary>Parses a key such as <c>"header:X-Api-Key"</c>.</summary>
    /// <param name="key">The key text.</param>
    /// <param name="kind">The kind of key.</param>
    /// <param name="argument">The header, query, route or claim name; <see langword="null"/> for the other kinds.</param>
    /// <returns>Whether <paramref name="key"/> is valid.</returns>
    public static bool TryParse(string? key, out TokenBucketKeyKind kind, out string? argument)
    {
        argument = null;
        kind = TokenBucketKeyKind.Ip;
        switch (key)
        {
            case null:
                return false;
            case Ip:
                return true;
            case User:
                kind = TokenBucketKeyKind.User;
                return true;
            case Global:
                kind = TokenBucketKeyKind.Global;
                return true;
        }

        if (TryArgument(key, HeaderPrefix, IsTokenChar, out argument))
        {
            kind = TokenBucketKeyKind.Header;
            return true;
        }
        if (TryArgument(key, QueryPrefix, IsVisible, out argument))
        {
            kind = TokenBucketKeyKind.Query;
            return true;
        }
        if (TryArgument(key, RoutePrefix, IsRouteNameChar, out argument))
        {
            kind = TokenBucketKeyKind.Route;
            return true;
        }
        if (TryArgument(key, ClaimPrefix, IsVisible, out argument))
        {
            kind = TokenBucketKeyKind.Claim;
            return true;
        }
        argument = null;
        return false;
    }

    private static bool TryArgument(string key, string prefix, Func<char, bool> isAllowed, out string? argument)
    {
        argument = null;
        if (!key.StartsWith(prefix, StringComparison.Ordinal) || key.Length == prefix.Length)
        {
            return false;
        }
        var value = key.Substring(prefix.Length);
        foreach (var c in value)
        {
            if (!isAllowed(c))
            {
                return false;
            }
        }
        argument = value;
        return true;
    }

    // RFC 9110 token characters: what a header field name may contain.
    private static bool IsTokenChar(char c) =>
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".IndexOf(c) >= 0;

    private static bool IsRouteNameChar(char c) =>
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';

    private static bool IsVisible(char c) => c > ' ' && c < '\u007f';
}
