using Yarp.ReverseProxy.Configuration;
using static RateGuard.Yarp.RouteMetadataKeys;

namespace RateGuard.Yarp;

/// <summary>
/// Reads <c>TokenBucket.ChargeHeader</c> from a YARP route's <c>Metadata</c>: the response header in which the upstream
/// reports what a request actually cost (an LLM's tokens, say), which the gateway charges as a handler would with
/// <c>HttpContext.ChargeTokens</c>. The configuration filter checks it and the transform provider applies it, both
/// through this one type.
/// </summary>
internal static class RouteChargeHeader
{
    /// <summary>
    /// The charge header of <paramref name="route"/>, or <see langword="null"/> when its metadata names none.
    /// <paramref name="limits"/> are the route's limits, as <see cref="RouteTokenBucketLimits.Parse"/> read them.
    /// </summary>
    /// <exception cref="InvalidOperationException">The header is not a valid header name, or no limit of the route lets
    /// a request be charged after the fact; the message names the route, the metadata key, its value and the fix.</exception>
    public static string? Parse(RouteConfig route, IReadOnlyList<TokenBucketAttribute> limits)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (Find(route) is not { } setting)
        {
            return null;
        }
        var header = setting.Value.Trim();
        if (!IsHeaderName(header))
        {
            throw new InvalidOperationException(
                $"Route '{route.RouteId}': metadata '{setting.Key}' = '{setting.Value}' is invalid: a charge header is the name of a response header, letters, digits and !#$%&'*+-.^_`|~ with no spaces. Write the name the upstream sets, such as 'X-Tokens-Used'.");
        }
        var named = false;
        foreach (var limit in limits)
        {
            if (limit.MaxCost > 0)
            {
                return header;
            }
            named |= limit.Limit is not null;
        }
        // The route states its own maximum, beside the header: a declared limit's is not visible here (the gate registry
        // hands out its capacity, rate, key and cost only), and one from configuration may change on a reload that
        // does not check routes again.
        var byName = named
            ? $" A limit used by name ('{Name(null, Limit)}') cannot set it on the route: add a labelled limit that does, such as 'TokenBucket.tokens.Capacity', 'TokenBucket.tokens.Rate' and 'TokenBucket.tokens.MaxCost'."
            : "";
        throw new InvalidOperationException(
            $"Route '{route.RouteId}': metadata '{setting.Key}' = '{setting.Value}' reports what a request cost, but no limit of the route may charge a request after the fact, so the report would change nothing. Set '{Name(null, MaxCost)}' (or '{Name("<label>", MaxCost)}') on the route to the most one request may be charged, such as 1000.{byName}");
    }

    // Metadata keys compare case-insensitively in configuration, and a route built in code may use any comparer: look
    // the key up as the limits' reader does.
    private static (string Key, string Value)? Find(RouteConfig route)
    {
        if (route.Metadata is not { Count: > 0 } metadata)
        {
            return null;
        }
        var name = Name(null, ChargeHeader);
        foreach (var (key, value) in metadata)
        {
            if (key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return (key, value);
            }
        }
        return null;
    }

    // An HTTP field name is a token (RFC 9110, section 5.1).
    private static bool IsHeaderName(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~'))
            {
                return false;
            }
        }
        return true;
    }
}
