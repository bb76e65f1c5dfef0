using System.Globalization;
using RateGuard.CompilerServices;
using Yarp.ReverseProxy.Configuration;
using static RateGuard.Yarp.RouteMetadataKeys;

namespace RateGuard.Yarp;

/// <summary>
/// Reads the token-bucket limits written in a YARP route's <c>Metadata</c> and turns each into the
/// <see cref="TokenBucketAttribute"/> an endpoint declaring the same limit in code would carry. The configuration
/// filter and the endpoint convention both read routes with this one type, so what was validated is what applies.
/// </summary>
internal static class RouteTokenBucketLimits
{
    /// <summary>
    /// The limits of <paramref name="route"/>, the unlabelled one first and then the labelled ones in ordinal order of
    /// their labels; empty when its metadata names none.
    /// </summary>
    /// <exception cref="InvalidOperationException">A limit is invalid; the message names the route, the metadata key,
    /// its value, the rule it breaks and how to fix it.</exception>
    public static IReadOnlyList<TokenBucketAttribute> Parse(RouteConfig route)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (route.Metadata is not { Count: > 0 } metadata)
        {
            return [];
        }

        // Each limit's properties by label ("" for the unlabelled limit), with the metadata key each value came from,
        // so a message names the key as it was written.
        var limits = new SortedDictionary<string, Dictionary<string, (string Key, string Value)>>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata)
        {
            if (key.Equals(Name(null, ChargeHeader), StringComparison.OrdinalIgnoreCase))
            {
                // The route's, not a limit's: RouteChargeHeader reads it.
                continue;
            }
            if (key.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            {
                var (label, property) = Split(route, key, metadata);
                Add(route, limits, label ?? "", property, key, value);
            }
            else if (key.StartsWith(SpringPrefix, StringComparison.OrdinalIgnoreCase) || key.Equals(SpringKeyResolver, StringComparison.OrdinalIgnoreCase))
            {
                var property = SpringProperty(route, key, metadata);
                Add(route, limits, "", property, key, value);
            }
        }

        var attributes = new List<TokenBucketAttribute>(limits.Count);
        foreach (var (label, properties) in limits)
        {
            attributes.Add(Create(route, label.Length == 0 ? null : label, properties));
        }
        return attributes;
    }

    // "TokenBucket.Capacity" or "TokenBucket.<label>.Capacity"; anything else under the prefix is a mistake, since it
    // would otherwise be ignored and leave the route less limited than its author believes.
    private static (string? Label, string Property) Split(RouteConfig route, string key, IReadOnlyDictionary<string, string> metadata)
    {
        var rest = key.Substring(Prefix.Length);
        var dot = rest.IndexOf('.');
        var label = dot < 0 ? null : rest.Substring(0, dot);
        var name = dot < 0 ? rest : rest.Substring(dot + 1);
        if (label is not null && name.Equals(ChargeHeader, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Route '{route.RouteId}': metadata key '{key}' (value '{metadata[key]}') gives one limit a charge header, but the header belongs to the route: the cost it reports is charged to every limit of the route that sets a maximum cost. Write it as '{Name(null, ChargeHeader)}'.");
        }
        var property = Array.Find(Properties, p => p.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (property is null || label is { Length: 0 } || (label is not null && !IsValidLabel(label)))
        {
            throw new InvalidOperationException(Unknown(route, key, metadata));
        }
        return (label, property);
    }

    // A label names the limit's default bucket, "<RouteId> <label>", and a configuration key segment.
    private static bool IsValidLabel(string label)
    {
        foreach (var c in label)
        {
            if (!TokenBucketLimits.IsBucketNameChar(c) || c is '.' or '/')
            {
                return false;
            }
        }
        return true;
    }

    private static string SpringProperty(RouteConfig route, string key, IReadOnlyDictionary<string, string> metadata)
    {
        foreach (var (spring, property) in SpringNames)
        {
            if (spring.Equals(key, StringComparison.OrdinalIgnoreCase))
            {
                return property;
            }
        }
        throw new InvalidOperationException(Unknown(route, key, metadata));
    }

    private static string Unknown(RouteConfig route, string key, IReadOnlyDictionary<string, string> metadata)
    {
        // The names this route could have meant: RateGuard's for the unlabelled limit and for every label it uses, and
        // Spring's.
        var known = new List<string>();
        known.AddRange(Properties.Select(p => Name(null, p)));
        known.Add(Name(null, ChargeHeader));
        foreach (var other in metadata.Keys)
        {
            if (other.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) && other.Substring(Prefix.Length).Split('.') is [var label, _] && label.Length > 0)
            {
                known.AddRange(Properties.Select(p => Name(label, p)));
            }
        }
        known.AddRange(SpringNames.Select(s => s.Spring));
        var hint = EditDistance.Closest(known, key, ignoreCase: true) is { } nearest
            ? $"Did you mean '{nearest}'?"
            : $"A limit's keys are {string.Join(", ", Properties.Select(p => $"'{Name(null, p)}'"))}, the same with a label as in 'TokenBucket.<label>.Capacity', or Spring Cloud Gateway's {string.Join(", ", SpringNames.Select(s => $"'{s.Spring}'"))}; the route's own is '{Name(null, ChargeHeader)}'.";
        return $"Route '{route.RouteId}': metadata key '{key}' (value '{metadata[key]}') is not a token-bucket setting, so it would limit nothing. {hint}";
    }

    private static void Add(RouteConfig route, SortedDictionary<string, Dictionary<string, (string Key, string Value)>> limits, string label, string property, string key, string value)
    {
        if (!limits.TryGetValue(label, out var properties))
        {
            limits[label] = properties = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        }
        if (properties.TryGetValue(property, out var earlier))
        {
            // Only RateGuard's name and its Spring twin can meet here (metadata keys are unique): equal is harmless.
            if (!SameValue(property, earlier.Value, value))
            {
                throw new InvalidOperationException(
                    $"Route '{route.RouteId}': metadata '{earlier.Key}' = '{earlier.Value}' and '{key}' = '{value}' both set the limit's {property.ToLowerInvariant()}, with different values. Keep one of the two keys.");
            }
            return;
        }
        properties[property] = (key, value);
    }

    private static bool SameValue(string property, string a, string b) => property switch
    {
        Capacity or Cost => TryParseInt(a, out var x) && TryParseInt(b, out var y) ? x == y : a == b,
        Rate => TryParseDouble(a, out var x) && TryParseDouble(b, out var y) ? x.Equals(y) : a == b,
        _ => a == b,
    };

    private static TokenBucketAttribute Create(RouteConfig route, string? label, Dictionary<string, (string Key, string Value)> properties)
    {
        if (properties.TryGetValue(Limit, out var limit))
        {
            return Named(route, properties, limit);
        }
        var capacity = Required(route, label, properties, Capacity);
        var rate = Required(route, label, properties, Rate);

        if (!TryParseInt(capacity.Value, out var capacityValue) || !TokenBucketLimits.IsValidCapacity(capacityValue))
        {
            throw Invalid(route, capacity, LimitRules.Capacity, "Write a whole number such as 10.");
        }
        if (!TryParseDouble(rate.Value, out var rateValue) || !TokenBucketLimits.IsValidRate(rateValue))
        {
            throw Invalid(route, rate, LimitRules.Rate, "Write a number such as 5 or 0.5, with '.' as the decimal separator.");
        }
        if (!TokenBucketLimits.IsValidWindow(capacityValue, rateValue))
        {
            throw Invalid(route, rate, $"with a capacity of {capacityValue}, {LimitRules.Window}", "");
        }

        var costValue = 1;
        if (properties.TryGetValue(Cost, out var cost))
        {
            if (!TryParseInt(cost.Value, out costValue) || !TokenBucketLimits.IsValidCost(costValue))
            {
                throw Invalid(route, cost, LimitRules.Cost, "Write a whole number such as 1, or leave the key out for 1.");
            }
            if (costValue > capacityValue)
            {
                throw Invalid(route, cost, $"with a capacity of {capacityValue}, {LimitRules.CostWithinCapacity}", "");
            }
        }

        var keyValue = TokenBucketKey.Ip;
        Type? resolver = null;
        if (properties.TryGetValue(Key, out var key) && key.Value.StartsWith(ResolverPrefix, StringComparison.Ordinal))
        {
            // A resolver registered in code under a name: the attribute can only name a type, so it names the one that
            // calls the resolver of that name, and keeps the name in its key, which a resolver makes unused.
            if (!RouteKeyResolvers.IsValidName(key.Value.AsSpan(ResolverPrefix.Length)))
            {
                throw Invalid(route, key, $"'{ResolverPrefix}' is followed by the name a key resolver was registered under: letters, digits, '.', '_' and '-'", "Write it as registered with AddTokenBucketKeyResolver<T>(\"tenant\"), for example 'resolver:tenant'.");
            }
            keyValue = key.Value;
            resolver = typeof(NamedRouteKeyResolver);
        }
        else if (key.Key is not null)
        {
            if (!TokenBucketKey.TryParse(key.Value, out _, out _))
            {
                // Spring's key-resolver names a bean (#{@userKeyResolver}); here the value is the key itself, or the name
                // a resolver class was registered under in code.
                var spring = key.Value.StartsWith("#{", StringComparison.Ordinal)
                    ? "A Spring bean reference cannot be resolved here: write the key it computes in one of these forms. "
                    : "";
                throw Invalid(route, key, $"a key is one of {TokenBucketKey.ValidForms}, or '{ResolverPrefix}<name>' for a resolver registered in code", spring + "Write one of these forms, such as 'header:X-Api-Key'.");
            }
            keyValue = key.Value;
        }

        var bucketValue = label is null ? route.RouteId : route.RouteId + " " + label;
        if (properties.TryGetValue(Bucket, out var bucket))
        {
            if (!TokenBucketPolicy.IsValidName(bucket.Value))
            {
                throw Invalid(route, bucket, LimitRules.BucketName, "Choose a name such as 'orders'.");
            }
            bucketValue = bucket.Value;
        }
        else if (!TokenBucketPolicy.IsValidName(bucketValue))
        {
            throw new InvalidOperationException(
                $"Route '{route.RouteId}': the bucket name '{bucketValue}' its limit would take from the route id is invalid: {LimitRules.BucketName}. Set '{Name(label, Bucket)}' to a valid name.");
        }

        string? planValue = null;
        if (properties.TryGetValue(Plan, out var plan))
        {
            if (!TokenBucketKey.TryParsePlan(plan.Value, out _, out _))
            {
                throw Invalid(route, plan, $"a plan is read from one of {TokenBucketKey.ValidPlanForms}", "Write one of these forms, such as 'header:X-Plan' set by a trusted upstream; the plans themselves are set under TokenBuckets:Buckets:<bucket>:Plans.");
            }
            planValue = plan.Value;
        }

        string? countValue = null;
        if (properties.TryGetValue(Count, out var count))
        {
            if (!TokenBucketCount.TryParse(count.Value, out _))
            {
                throw Invalid(route, count, LimitRules.Count, "Write one of these forms, such as 'failures'.");
            }
            countValue = count.Value;
        }

        var maxCostValue = 0;
        if (properties.TryGetValue(MaxCost, out var maxCost))
        {
            var fix = $"Write a whole number of tokens such as {Math.Max(costValue, 1000).ToString(CultureInfo.InvariantCulture)}, or leave the key out so that a request costs what it took up front.";
            if (!TryParseInt(maxCost.Value, out maxCostValue))
            {
                throw Invalid(route, maxCost, LimitRules.MaxCost, fix);
            }
            if (!TokenBucketLimits.IsValidMaxCost(maxCostValue, costValue, rateValue))
            {
                throw Invalid(route, maxCost, $"with a cost of {costValue} and a rate of {rateValue.ToString(CultureInfo.InvariantCulture)}, {LimitRules.MaxCost}", fix);
            }
        }

        return new TokenBucketAttribute(capacityValue, rateValue) { Cost = costValue, Key = keyValue, Bucket = bucketValue, KeyResolver = resolver, Plan = planValue, Count = countValue, MaxCost = maxCostValue };
    }

    // A limit declared in code, used by name: one bucket of its name, shared with every endpoint in the app that uses it.
    // The name must be one the app declares, and nothing else may describe the limit: the declaration says it all.
    private static TokenBucketAttribute Named(RouteConfig route, Dictionary<string, (string Key, string Value)> properties, (string Key, string Value) limit)
    {
        var others = properties.Where(p => p.Key != Limit).Select(p => $"'{p.Value.Key}'").Order(StringComparer.Ordinal).ToList();
        if (others.Count > 0)
        {
            throw new InvalidOperationException(
                $"Route '{route.RouteId}': metadata '{limit.Key}' = '{limit.Value}' names a declared limit, and {string.Join(", ", others)} describe the limit too: {LimitRules.NamedLimitAlone}. Remove {string.Join(", ", others)}, or '{limit.Key}'.");
        }
        var name = limit.Value.Trim();
        try
        {
            TokenBucketGateRegistry.GetLimit(name);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"Route '{route.RouteId}': metadata '{limit.Key}' = '{limit.Value}' is invalid: {e.Message}", e);
        }
        return new TokenBucketAttribute(name);
    }

    /// <summary>The resolver name of a limit keyed <c>resolver:&lt;name&gt;</c>, or <see langword="null"/>.</summary>
    public static string? ResolverName(TokenBucketAttribute limit) =>
        limit.KeyResolver == typeof(NamedRouteKeyResolver) ? limit.Key[ResolverPrefix.Length..] : null;

    private static (string Key, string Value) Required(RouteConfig route, string? label, Dictionary<string, (string Key, string Value)> properties, string property)
    {
        if (properties.TryGetValue(property, out var found))
        {
            return found;
        }
        var spring = label is null ? SpringNames.First(s => s.Property == property).Spring : null;
        var also = spring is null ? "" : $" (or Spring Cloud Gateway's '{spring}')";
        var given = string.Join(", ", properties.Values.Select(p => $"'{p.Key}'"));
        throw new InvalidOperationException(
            $"Route '{route.RouteId}': metadata sets {given} but not '{Name(label, property)}'{also}; a token-bucket limit needs both a capacity and a rate. Add '{Name(label, property)}'.");
    }

    private static InvalidOperationException Invalid(RouteConfig route, (string Key, string Value) setting, string rule, string fix) =>
        new($"Route '{route.RouteId}': metadata '{setting.Key}' = '{setting.Value}' is invalid: {rule}.{(fix.Length == 0 ? "" : " " + fix)}");

    // Invariant culture, so a limit means the same on every machine; no thousands separators, which would be
    // ambiguous with a decimal comma.
    private static bool TryParseInt(string value, out int result) =>
        int.TryParse(value, NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out result);

    private static bool TryParseDouble(string value, out double result) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out result);
}
