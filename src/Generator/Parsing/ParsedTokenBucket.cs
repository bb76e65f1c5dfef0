using Microsoft.CodeAnalysis;

namespace RateGuard.Generator.Parsing;

/// <summary>Where a limit was written.</summary>
internal enum TokenBucketSource
{
    /// <summary><c>[TokenBucket(...)]</c> on a method, lambda, local function or class.</summary>
    Attribute,

    /// <summary><c>new TokenBucketAttribute(...)</c>, as passed to <c>WithMetadata</c>.</summary>
    ObjectCreation,

    /// <summary><c>.RequireTokenBucket(...)</c>.</summary>
    FluentCall,

    /// <summary><c>[assembly: TokenBucketLimit(name, ...)]</c>, whose name is its bucket.</summary>
    Declaration,
}

/// <summary>
/// A token-bucket limit read from source, argument by argument with locations. The generator and the analyzer both
/// read limits into this one shape; it is never cached in a pipeline (it holds locations and a symbol).
/// </summary>
internal sealed class ParsedTokenBucket
{
    public ParsedTokenBucket(TokenBucketSource source, Location? location)
    {
        Source = source;
        Location = location;
        Capacity = ParsedValue<int>.Unknown(location);
        Rate = ParsedValue<double>.Unknown(location);
        Key = ParsedValue<string?>.Default("ip", location);
        Cost = ParsedValue<int>.Default(1, location);
        Bucket = ParsedValue<string?>.Default(null, location);
        KeyResolver = ParsedValue<ITypeSymbol?>.Default(null, location);
        PerEndpoint = ParsedValue<bool>.Default(false, location);
        Limit = ParsedValue<string?>.Default(null, location);
        Plan = ParsedValue<string?>.Default(null, location);
        PlanResolver = ParsedValue<ITypeSymbol?>.Default(null, location);
        Count = ParsedValue<string?>.Default(null, location);
        CountRule = ParsedValue<ITypeSymbol?>.Default(null, location);
        MaxCost = ParsedValue<int>.Default(0, location);
    }

    public TokenBucketSource Source { get; }

    public Location? Location { get; }

    public ParsedValue<int> Capacity { get; set; }

    public ParsedValue<double> Rate { get; set; }

    public ParsedValue<string?> Key { get; set; }

    public ParsedValue<int> Cost { get; set; }

    public ParsedValue<string?> Bucket { get; set; }

    public ParsedValue<ITypeSymbol?> KeyResolver { get; set; }

    /// <summary>Whether each endpoint the limit reaches has a bucket of its own rather than one they share.</summary>
    public ParsedValue<bool> PerEndpoint { get; set; }

    /// <summary>The name of the declared limit this one uses (<c>[TokenBucket("writes")]</c>), when it uses one.</summary>
    public ParsedValue<string?> Limit { get; set; }

    /// <summary>Where the caller's plan is read from (<c>"claim:plan"</c>), when the limit reads one.</summary>
    public ParsedValue<string?> Plan { get; set; }

    /// <summary>The type that names the caller's plan; when set, <see cref="Plan"/> is ignored, as the runtime ignores it.</summary>
    public ParsedValue<ITypeSymbol?> PlanResolver { get; set; }

    /// <summary>Which responses the limit counts (<c>"failures"</c>, <c>"401,403"</c>); <see langword="null"/> counts every one.</summary>
    public ParsedValue<string?> Count { get; set; }

    /// <summary>The type that decides which responses count; when set, <see cref="Count"/> is ignored, as the runtime ignores it.</summary>
    public ParsedValue<ITypeSymbol?> CountRule { get; set; }

    /// <summary>The most one request may be charged once its handler reports its actual cost; 0 when it cannot.</summary>
    public ParsedValue<int> MaxCost { get; set; }

    /// <summary>
    /// For a declared limit resolved at one of its uses, the name it is used by: its values are the declaration's, and
    /// its locations the use's.
    /// </summary>
    public string? UsedByName { get; set; }

    /// <summary>Whether this limit is used by name, and so takes everything else from its declaration.</summary>
    public bool IsUseByName => Limit.IsSpecified;

    /// <summary>Whether every argument that shapes the gate is a compile-time constant.</summary>
    public bool IsFullyConstant => !IsUseByName && Capacity.IsConstant && Rate.IsConstant && Key.IsConstant && Cost.IsConstant && KeyResolver.IsConstant;
}
