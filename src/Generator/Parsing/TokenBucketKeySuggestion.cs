namespace RateGuard.Generator.Parsing;

/// <summary>
/// The valid key an invalid one was most likely meant to be: <c>"IP"</c> is <c>"ip"</c>, <c>"claims:sub"</c> is
/// <c>"claim:sub"</c>, <c>"usr"</c> is <c>"user"</c>. A suggestion is made only when exactly one valid form is near and
/// the result parses; a key that lacks a name (<c>"header:"</c>) or has characters its kind forbids has no one right
/// edit, and gets none.
/// </summary>
internal static class TokenBucketKeySuggestion
{
    private static readonly string[] s_simpleKeys = [TokenBucketKey.Ip, TokenBucketKey.User, TokenBucketKey.Global];

    private static readonly string[] s_prefixes =
    [
        TokenBucketKey.HeaderPrefix.TrimEnd(':'),
        TokenBucketKey.QueryPrefix.TrimEnd(':'),
        TokenBucketKey.RoutePrefix.TrimEnd(':'),
        TokenBucketKey.ClaimPrefix.TrimEnd(':'),
    ];

    /// <summary>The valid key nearest to <paramref name="key"/>, or <see langword="null"/> when none is clearly meant.</summary>
    public static string? Suggest(string? key)
    {
        if (key is null)
        {
            return null;
        }
        var trimmed = key.Trim();
        var colon = trimmed.IndexOf(':');
        var suggestion = colon < 0
            ? Nearest(trimmed, s_simpleKeys)
            : Nearest(trimmed.Substring(0, colon).Trim(), s_prefixes) is { } prefix ? prefix + ":" + trimmed.Substring(colon + 1).Trim() : null;
        return suggestion is not null && suggestion != key && TokenBucketKey.TryParse(suggestion, out _, out _) ? suggestion : null;
    }

    // The one candidate within reach of the value, ignoring case. Short words allow one edit and longer ones two, and
    // "ip" none: "id" is as likely a route value as a typo for "ip".
    private static string? Nearest(string value, string[] candidates)
    {
        var lower = value.ToLowerInvariant();
        string? best = null;
        var bestDistance = int.MaxValue;
        var tied = false;
        foreach (var candidate in candidates)
        {
            var distance = EditDistance.Between(lower, candidate);
            var reach = candidate.Length <= 2 ? 0 : candidate.Length <= 5 ? 1 : 2;
            if (distance > reach || distance > bestDistance)
            {
                continue;
            }
            tied = distance == bestDistance;
            best = candidate;
            bestDistance = distance;
        }
        return tied ? null : best;
    }
}
