namespace RateGuard;

/// <summary>
/// How many edits turn one word into another, a swap of neighbours counting as one (optimal string alignment
/// distance): the one measure behind every "did you mean" of the analyzer and of the runtime's configuration checks.
/// Compiled into both from this one file.
/// </summary>
internal static class EditDistance
{
    /// <summary>
    /// The candidate nearest to <paramref name="typed"/>, when it is near enough to be what was meant (at most
    /// max(2, a quarter of its length) edits away); otherwise <see langword="null"/>. The first of equally near ones wins.
    /// </summary>
    public static string? Closest(IEnumerable<string> candidates, string typed, bool ignoreCase)
    {
        var wanted = ignoreCase ? typed.ToLowerInvariant() : typed;
        string? nearest = null;
        var best = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Between(ignoreCase ? candidate.ToLowerInvariant() : candidate, wanted);
            if (distance < best)
            {
                nearest = candidate;
                best = distance;
            }
        }
        return best <= System.Math.Max(2, typed.Length / 4) ? nearest : null;
    }

    public static int Between(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = System.Math.Min(System.Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = System.Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
