using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace RateGuard.Generator.Parsing;

/// <summary>
/// Reads token-bucket limits from the three places they are written. The compiler has already folded constants,
/// <c>const</c> fields and expressions such as <c>60 * 10</c>, so every form is read through its constant values.
/// </summary>
internal static class TokenBucketArgumentParser
{
    public const string AttributeMetadataName = "RateGuard.TokenBucketAttribute";
    public const string DeclarationMetadataName = "RateGuard.TokenBucketLimitAttribute";
    public const string DisableAttributeMetadataName = "RateGuard.DisableTokenBucketAttribute";
    public const string ResolverInterfaceMetadataName = "RateGuard.ITokenBucketKeyResolver";
    public const string PlanResolverInterfaceMetadataName = "RateGuard.ITokenBucketPlanResolver";
    public const string CountRuleInterfaceMetadataName = "RateGuard.ITokenBucketCountRule";
    public const string FluentMethodName = "RequireTokenBucket";
    public const string FluentContainingType = "Microsoft.AspNetCore.Builder.TokenBucketEndpointConventionBuilderExtensions";

    /// <summary>Reads <c>[TokenBucket(...)]</c>.</summary>
    public static ParsedTokenBucket FromAttribute(AttributeData attribute) => FromAttribute(attribute, TokenBucketSource.Attribute);

    /// <summary>
    /// Reads <c>[assembly: TokenBucketLimit(name, capacity, rate, ...)]</c> as the limit it declares, with its name as
    /// its bucket: it is the one bucket every use of the name shares.
    /// </summary>
    public static ParsedTokenBucket FromDeclaration(AttributeData attribute) => FromAttribute(attribute, TokenBucketSource.Declaration);

    private static ParsedTokenBucket FromAttribute(AttributeData attribute, TokenBucketSource source)
    {
        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax() as AttributeSyntax;
        var parsed = new ParsedTokenBucket(source, syntax?.GetLocation());
        var arguments = syntax?.ArgumentList?.Arguments;

        var constructor = attribute.AttributeConstructor;
        for (var i = 0; i < attribute.ConstructorArguments.Length && constructor is not null && i < constructor.Parameters.Length; i++)
        {
            var name = constructor.Parameters[i].Name;
            Assign(parsed, name, attribute.ConstructorArguments[i], ConstructorArgumentLocation(arguments, i, name) ?? parsed.Location);
        }
        foreach (var named in attribute.NamedArguments)
        {
            Assign(parsed, named.Key, named.Value, NamedArgumentLocation(arguments, named.Key) ?? parsed.Location);
        }
        return parsed;
    }

    /// <summary>Reads <c>new TokenBucketAttribute(...) { ... }</c>.</summary>
    public static ParsedTokenBucket FromObjectCreation(IObjectCreationOperation creation)
    {
        var parsed = new ParsedTokenBucket(TokenBucketSource.ObjectCreation, creation.Syntax.GetLocation());
        foreach (var argument in creation.Arguments)
        {
            if (argument.Parameter is { } parameter)
            {
                Assign(parsed, parameter.Name, argument.Value, argument.ArgumentKind == ArgumentKind.DefaultValue ? parsed.Location : argument.Value.Syntax.GetLocation());
            }
        }
        if (creation.Initializer is { } initializer)
        {
            foreach (var assignment in initializer.Initializers.OfType<ISimpleAssignmentOperation>())
            {
                if (assignment.Target is IPropertyReferenceOperation property)
                {
                    Assign(parsed, property.Property.Name, assignment.Value, assignment.Value.Syntax.GetLocation());
                }
            }
        }
        return parsed;
    }

    /// <summary>Reads <c>.RequireTokenBucket(capacity, rate, key, cost, bucket, perEndpoint, plan, count, maxCost)</c>, by parameter name.</summary>
    public static ParsedTokenBucket FromFluentCall(IInvocationOperation invocation)
    {
        var parsed = new ParsedTokenBucket(TokenBucketSource.FluentCall, invocation.Syntax.GetLocation());
        foreach (var argument in invocation.Arguments)
        {
            if (argument.Parameter is { } parameter && !parameter.IsThis && parameter.Ordinal > 0)
            {
                Assign(parsed, parameter.Name, argument.Value, argument.ArgumentKind == ArgumentKind.DefaultValue ? parsed.Location : argument.Value.Syntax.GetLocation());
            }
        }
        return parsed;
    }

    /// <summary>Whether <paramref name="method"/> is the runtime's <c>RequireTokenBucket</c> extension.</summary>
    public static bool IsFluentMethod(IMethodSymbol method) =>
        method.Name == FluentMethodName
        && (method.ReducedFrom ?? method.OriginalDefinition).ContainingType?.ToDisplayString() == FluentContainingType;

    // An attribute argument: the compiler has already folded it, or reports it as an error.
    private static void Assign(ParsedTokenBucket parsed, string name, TypedConstant value, Location? location) =>
        Assign(parsed, name, value.Kind != TypedConstantKind.Error, value.Value, location);

    // An expression: a constant, or for KeyResolver, PlanResolver and CountRule a typeof(...) (or null).
    private static void Assign(ParsedTokenBucket parsed, string name, IOperation value, Location? location)
    {
        if (Normalize(name) is "keyresolver" or "planresolver" or "countrule")
        {
            switch (Unwrap(value))
            {
                case ITypeOfOperation typeOf:
                    Assign(parsed, name, true, typeOf.TypeOperand, location);
                    return;
                case { ConstantValue: { HasValue: true, Value: null } }:
                    Assign(parsed, name, true, null, location);
                    return;
                default:
                    Assign(parsed, name, false, null, location);
                    return;
            }
        }
        Assign(parsed, name, value.ConstantValue.HasValue, value.ConstantValue.Value, location);
    }

    // One argument, whichever form it was written in: whether the compiler knows its value, and the value.
    private static void Assign(ParsedTokenBucket parsed, string name, bool known, object? value, Location? location)
    {
        switch (Normalize(name))
        {
            case "capacity":
                parsed.Capacity = known && value is int capacity ? new(capacity, true, location, true) : ParsedValue<int>.Unknown(location);
                break;
            case "rate":
                parsed.Rate = known && value is { } rate && IsNumber(rate) ? new(System.Convert.ToDouble(rate, System.Globalization.CultureInfo.InvariantCulture), true, location, true) : ParsedValue<double>.Unknown(location);
                break;
            case "key":
                parsed.Key = known ? new(value as string, true, location, true) : ParsedValue<string?>.Unknown(location);
                break;
            case "cost":
                parsed.Cost = known && value is int cost ? new(cost, true, location, true) : ParsedValue<int>.Unknown(location);
                break;
            case "bucket":
                parsed.Bucket = known ? new(value as string, true, location, true) : ParsedValue<string?>.Unknown(location);
                break;
            case "keyresolver":
                parsed.KeyResolver = known ? new(value as ITypeSymbol, true, location, true) : ParsedValue<ITypeSymbol?>.Unknown(location);
                break;
            case "limit":
                parsed.Limit = known ? new(value as string, true, location, true) : ParsedValue<string?>.Unknown(location);
                break;
            // The declaration's name, which is its bucket.
            case "name":
                parsed.Bucket = known ? new(value as string, true, location, true) : ParsedValue<string?>.Unknown(location);
                break;
            case "plan":
                parsed.Plan = known ? new(value as string, true, location, true) : ParsedValue<string?>.Unknown(location);
                break;
            case "planresolver":
                parsed.PlanResolver = known ? new(value as ITypeSymbol, true, location, true) : ParsedValue<ITypeSymbol?>.Unknown(location);
                break;
            case "count":
                parsed.Count = known ? new(value as string, true, location, true) : ParsedValue<string?>.Unknown(location);
                break;
            case "countrule":
                parsed.CountRule = known ? new(value as ITypeSymbol, true, location, true) : ParsedValue<ITypeSymbol?>.Unknown(location);
                break;
            case "maxcost":
                parsed.MaxCost = known && value is int maxCost ? new(maxCost, true, location, true) : ParsedValue<int>.Unknown(location);
                break;
            case "perendpoint":
                parsed.PerEndpoint = known && value is bool perEndpoint ? new(perEndpoint, true, location, true) : ParsedValue<bool>.Unknown(location);
                break;
        }
    }

    private static IOperation Unwrap(IOperation operation) =>
        operation is IConversionOperation { IsImplicit: true } conversion ? Unwrap(conversion.Operand) : operation;

    private static string Normalize(string name) => name.ToLowerInvariant();

    private static bool IsNumber(object value) =>
        value is int or long or double or float or short or byte or sbyte or ushort or uint or ulong or decimal;

    private static Location? ConstructorArgumentLocation(SeparatedSyntaxList<AttributeArgumentSyntax>? arguments, int index, string parameterName)
    {
        if (arguments is not { } list)
        {
            return null;
        }
        foreach (var argument in list)
        {
            if (argument.NameColon?.Name.Identifier.ValueText == parameterName)
            {
                return argument.Expression.GetLocation();
            }
        }
        var positional = list.Where(a => a.NameEquals is null && a.NameColon is null).ToList();
        return index < positional.Count ? positional[index].Expression.GetLocation() : null;
    }

    private static Location? NamedArgumentLocation(SeparatedSyntaxList<AttributeArgumentSyntax>? arguments, string propertyName)
    {
        if (arguments is not { } list)
        {
            return null;
        }
        foreach (var argument in list)
        {
            if (argument.NameEquals?.Name.Identifier.ValueText == propertyName)
            {
                return argument.Expression.GetLocation();
            }
        }
        return null;
    }
}
