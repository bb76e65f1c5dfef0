using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using RateGuard.Generator.Analysis;
using RateGuard.Generator.Diagnostics;

namespace RateGuard.Generator.Parsing;

/// <summary>
/// The rules a limit must satisfy, reported as diagnostics at the offending argument. The generator applies the same
/// predicates (through <see cref="GateSpecFactory"/>) to decide whether it can emit a gate.
/// </summary>
internal static class TokenBucketValidator
{
    public static IEnumerable<Diagnostic> Validate(ParsedTokenBucket parsed, KnownSymbols symbols)
    {
        if (parsed.Capacity.IsConstant && !TokenBucketLimits.IsValidCapacity(parsed.Capacity.Value))
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidCapacity, parsed.Capacity.Location, parsed.Capacity.Value);
        }
        if (parsed.Rate.IsConstant && (!TokenBucketLimits.IsValidRate(parsed.Rate.Value)
            || (parsed.Capacity.IsConstant && TokenBucketLimits.IsValidCapacity(parsed.Capacity.Value) && !TokenBucketLimits.IsValidWindow(parsed.Capacity.Value, parsed.Rate.Value))))
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidRate, parsed.Rate.Location, Format(parsed.Rate.Value), RateHint(parsed.Rate.Value, parsed.Capacity.Value));
        }
        if (parsed.Cost.IsConstant && !TokenBucketLimits.IsValidCost(parsed.Cost.Value))
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidCost, parsed.Cost.Location, parsed.Cost.Value);
        }
        else if (parsed.Cost.IsConstant && parsed.Capacity.IsConstant && TokenBucketLimits.IsValidCapacity(parsed.Capacity.Value) && parsed.Cost.Value > parsed.Capacity.Value)
        {
            // The code fix raises the capacity to the cost, so it needs the capacity's place and the cost's value.
            var capacity = parsed.Capacity.Location is { } capacityLocation && capacityLocation != parsed.Location ? [capacityLocation] : System.Array.Empty<Location>();
            var properties = ImmutableDictionary<string, string?>.Empty.Add(TokenBucketAnalyzer.RequiredCapacityProperty, parsed.Cost.Value.ToString(CultureInfo.InvariantCulture));
            yield return Diagnostic.Create(DiagnosticDescriptors.CostAboveCapacity, parsed.Cost.Location, capacity, properties, parsed.Cost.Value, parsed.Capacity.Value);
        }

        if (IsGiven(parsed.KeyResolver))
        {
            if (Unusable(parsed.KeyResolver, symbols.ResolverInterface, DiagnosticDescriptors.InvalidResolver) is { } invalid)
            {
                yield return invalid;
            }
        }
        else if (parsed.Key.IsConstant && !TokenBucketKey.TryParse(parsed.Key.Value, out _, out _))
        {
            var suggestion = TokenBucketKeySuggestion.Suggest(parsed.Key.Value);
            var properties = suggestion is null ? null : ImmutableDictionary<string, string?>.Empty.Add(TokenBucketAnalyzer.SuggestedKeyProperty, suggestion);
            var use = suggestion is null ? TokenBucketKey.ValidForms : "\"" + suggestion + "\" (the valid forms are " + TokenBucketKey.ValidForms + ")";
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidKey, parsed.Key.Location, properties, parsed.Key.Value ?? "null", use);
        }

        // A plan resolver replaces the plan source, as a key resolver replaces the key; no plan at all is the default.
        if (IsGiven(parsed.PlanResolver))
        {
            if (Unusable(parsed.PlanResolver, symbols.PlanResolverInterface, DiagnosticDescriptors.InvalidPlanResolver) is { } invalid)
            {
                yield return invalid;
            }
        }
        else if (parsed.Plan.IsConstant && parsed.Plan.Value is { } plan && !TokenBucketKey.TryParsePlan(plan, out _, out _))
        {
            var suggestion = PlanSuggestion(plan);
            var properties = suggestion is null ? null : ImmutableDictionary<string, string?>.Empty.Add(TokenBucketAnalyzer.SuggestedKeyProperty, suggestion);
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidPlan, parsed.Plan.Location, properties, plan, PlanHint(plan, suggestion));
        }

        // A count rule replaces the count, as a plan resolver replaces the plan source; no count counts every response.
        if (IsGiven(parsed.CountRule))
        {
            if (Unusable(parsed.CountRule, symbols.CountRuleInterface, DiagnosticDescriptors.InvalidCountRule) is { } invalid)
            {
                yield return invalid;
            }
        }
        else if (parsed.Count.IsConstant && parsed.Count.Value is { } count && !TokenBucketCount.TryParse(count, out _))
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidCount, parsed.Count.Location, count);
        }

        if (parsed.MaxCost.IsConstant && MaxCostHint(parsed) is { } maxCostHint)
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidMaxCost, parsed.MaxCost.Location, parsed.MaxCost.Value, maxCostHint);
        }

        if (parsed.Bucket.IsConstant && parsed.Bucket.Value is { } bucket && !TokenBucketLimits.IsValidBucketName(bucket))
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidBucketName, parsed.Bucket.Location, bucket);
        }
        if (parsed.PerEndpoint is { IsConstant: true, Value: true } && parsed.Bucket is { IsConstant: true, Value: { } sharedName })
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.PerEndpointWithBucket, parsed.PerEndpoint.Location, sharedName);
        }
    }

    // A key resolver, plan resolver or count rule written as typeof(...): the type, rather than the string it replaces,
    // is what the runtime uses.
    private static bool IsGiven(ParsedValue<ITypeSymbol?> type) => type.IsConstant && type.Value is not null;

    // A type the runtime cannot use for its interface: not implementing it, abstract, or an open generic. Its constructor
    // is not judged, since dependency injection may create it with the arguments its constructor asks for.
    private static Diagnostic? Unusable(ParsedValue<ITypeSymbol?> type, INamedTypeSymbol? @interface, DiagnosticDescriptor descriptor) =>
        type.Value is { } given && @interface is not null && given.TypeKind != TypeKind.Error
        && !(given is INamedTypeSymbol named && GateSpecFactory.IsUsableResolver(named, @interface))
            ? Diagnostic.Create(descriptor, type.Location, given.ToDisplayString())
            : null;

    // What makes a maximum cost invalid, for the message, or null when it is valid. A cost or rate the compiler does not
    // know, or that is itself invalid and reported as such, is not held against it.
    private static string? MaxCostHint(ParsedTokenBucket parsed)
    {
        var maxCost = parsed.MaxCost.Value;
        var cost = parsed.Cost.IsConstant && TokenBucketLimits.IsValidCost(parsed.Cost.Value) ? parsed.Cost.Value : 1;
        var rate = parsed.Rate.IsConstant ? parsed.Rate.Value : double.NaN;
        if (TokenBucketLimits.IsValidMaxCost(maxCost, cost, rate))
        {
            return null;
        }
        if (maxCost < 0)
        {
            return "";
        }
        return maxCost < cost
            ? string.Format(CultureInfo.InvariantCulture, " with a cost of {0}", cost)
            : " at a rate of " + Format(rate);
    }

    // The plan source an invalid one was most likely meant to be, as for keys: "claims:plan" is "claim:plan".
    private static string? PlanSuggestion(string plan) =>
        TokenBucketKeySuggestion.Suggest(plan) is { } suggestion && TokenBucketKey.TryParsePlan(suggestion, out _, out _) ? suggestion : null;

    // "ip", "user" and "global" (or a near miss of them) are keys: they say who shares a bucket, and hold no plan.
    private static string PlanHint(string plan, string? suggestion)
    {
        if (suggestion is not null)
        {
            return "use \"" + suggestion + "\" (the valid forms are " + TokenBucketKey.ValidPlanForms + ")";
        }
        var meant = TokenBucketKey.TryParse(plan, out _, out _) ? plan : TokenBucketKeySuggestion.Suggest(plan);
        return meant is not null && TokenBucketKey.TryParse(meant, out _, out _)
            ? "\"" + meant + "\" is a key, which says whose bucket a request draws from, not where the caller's plan is read: use " + TokenBucketKey.ValidPlanForms + ", or a PlanResolver"
            : "use " + TokenBucketKey.ValidPlanForms + ", or a PlanResolver";
    }

    // The rule the rate breaks, and a fix that depends on how it is bad. A fraction is the answer only for a rate that
    // came out as 0, most often from integer division (1 / 60 is 0); a negative or huge rate needs another hint, and a
    // valid rate is reported only because the bucket would take too long to fill.
    private static string RateHint(double rate, int capacity)
    {
        if (double.IsNaN(rate))
        {
            return LimitRules.Rate + "; use one such as 5";
        }
        if (double.IsPositiveInfinity(rate) || rate > TokenBucketLimits.MaxRate)
        {
            return LimitRules.Rate + ", the finest the stores keep; an endpoint that needs no limit should carry none";
        }
        if (rate < 0)
        {
            return TokenBucketLimits.IsValidRate(-rate)
                ? LimitRules.Rate + "; use " + Format(-rate)
                : LimitRules.Rate;
        }
        if (rate == 0)
        {
            return LimitRules.Rate + "; for slow limits use a fraction such as 1.0 / 60 (one per minute), since 1 / 60 divides integers and is 0";
        }
        return string.Format(CultureInfo.InvariantCulture, "with a capacity of {0:N0}, {1}", capacity, LimitRules.Window);
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
