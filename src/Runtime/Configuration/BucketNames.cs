namespace RateGuard.Configuration;

/// <summary>
/// How configuration names a bucket: by its exact name (<c>TokenBuckets:Buckets:GET /items/{id}:Capacity</c>) or by
/// its environment form, which an environment variable can carry (<c>TokenBuckets__Buckets__GET_items_id__Capacity</c>).
/// </summary>
internal static class BucketNames
{
    /// <summary>
    /// The environment form of <paramref name="name"/>: every run of characters other than ASCII letters and digits
    /// becomes one <c>_</c>, with none at either end. A single <c>_</c> never reads as the <c>__</c> that separates
    /// configuration sections in a variable name, and Kubernetes accepts it.
    /// </summary>
    public static string EnvironmentForm(string name)
    {
        var chars = new char[name.Length];
        var length = 0;
        foreach (var c in name)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                chars[length++] = c;
            }
            else if (length > 0 && chars[length - 1] != '_')
            {
                chars[length++] = '_';
            }
        }
        if (length > 0 && chars[length - 1] == '_')
        {
            length--;
        }
        return new string(chars, 0, length);
    }

    /// <summary>
    /// The override for <paramref name="bucket"/>: the one under its exact name, else the one under its environment
    /// form (letters compared without case, as environment variables are often upper case).
    /// </summary>
    public static bool TryGetOverride(IReadOnlyDictionary<string, TokenBucketOverride> overrides, string bucket, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TokenBucketOverride? found)
    {
        if (overrides.TryGetValue(bucket, out found))
        {
            return true;
        }
        if (overrides.Count > 0)
        {
            var form = EnvironmentForm(bucket);
            foreach (var (key, value) in overrides)
            {
                if (string.Equals(key, form, StringComparison.OrdinalIgnoreCase))
                {
                    found = value;
                    return true;
                }
            }
        }
        found = null;
        return false;
    }

    /// <summary>The known names an override key names: its exact name, or every name whose environment form it is.</summary>
    public static List<string> Matches(string key, IReadOnlyList<string> known)
    {
        var matches = new List<string>();
        foreach (var name in known)
        {
            if (name == key)
            {
                return [name];
            }
            if (string.Equals(EnvironmentForm(name), key, StringComparison.OrdinalIgnoreCase))
            {
                matches.Add(name);
            }
        }
        return matches;
    }

    /// <summary>The error for an override key in environment form that names several buckets.</summary>
    public static string Ambiguous(string key, List<string> matches) =>
        $"TokenBuckets:Buckets:{key} names {matches.Count} buckets ({string.Join(", ", matches.Select(m => $"'{m}'"))}); write the exact name of the one it is for.";
}
