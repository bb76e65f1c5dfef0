namespace RateGuard.Outcomes;

/// <summary>
/// Which responses one limit counts: the status codes a count lists (<c>"failures"</c> is 400 to 999), or a rule of the
/// app's. A limit that counts every response has none.
/// </summary>
internal sealed class OutcomeRule
{
    private readonly bool[]? _statuses;
    private readonly ITokenBucketCountRule? _rule;

    private OutcomeRule(bool[]? statuses, ITokenBucketCountRule? rule, string description)
    {
        _statuses = statuses;
        _rule = rule;
        Description = description;
    }

    /// <summary>The rule as written: the count, or the rule's type.</summary>
    public string Description { get; }

    /// <summary>
    /// The rule <paramref name="count"/> writes, or <see langword="null"/> when it counts every response.
    /// </summary>
    /// <exception cref="FormatException"><paramref name="count"/> is not a count.</exception>
    public static OutcomeRule? Parse(string count)
    {
        if (!TokenBucketCount.TryParse(count, out var statuses))
        {
            throw new FormatException($"Count '{count}' is invalid: {LimitRules.Count}.");
        }
        return statuses is null ? null : new OutcomeRule(statuses, null, count.Trim());
    }

    /// <summary>The rule of the app's own type.</summary>
    public static OutcomeRule Of(ITokenBucketCountRule rule, string typeName) => new(null, rule, typeName);

    /// <summary>Whether a response with <paramref name="status"/> counts; a request that threw is asked with 500.</summary>
    public bool Counts(int status) =>
        _rule is not null ? _rule.Counts(status) : (uint)status < (uint)_statuses!.Length && _statuses[status];
}
