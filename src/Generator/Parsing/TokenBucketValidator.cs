using System.Collections.Generic;
using System.Globalization;
using Microsoft.CodeAnalysis;
using RateGuard.Generator.Diagnostics;

namespace RateGuard.Generator.Parsing;

/// <summary>
/// The rules a limit must satisfy, reported as diagnostics at the offending argument. The generator applies the same
/// predicates (through <see cref="GateSpecFactory"/>) to decide whether it can emit a gate.
/// </summary>
internal static class TokenBucketValidator
{
    public static IEnumerable<Diagnostic> Validate(ParsedTokenBucket parsed, INamedTypeSymbol? resolverInterface)
    {
        if (parsed.Capacity.IsConstant && !TokenBucketLimits.IsValidCapacity(parsed.Capacity.Value))
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidCapacity, parsed.Capacity.Location, parsed.Capacity.Value);
        }
        if (parsed.Rate.IsConstant && (!TokenBucketLimits.IsValidRate(parsed.Rate.Value)
            || (parsed.Capacity.IsConstant && TokenBucketLimits.IsValidCapacity(parsed.Capacity.Value) && !TokenBucketLimits.IsValidWindow(parsed.Capacity.Value, parsed.Rate.Value))))
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidRate, parsed.Rate.Location, parsed.Rate.Value.ToString("R", CultureInfo.InvariantCulture));
        }
        if (parsed.Cost.IsConstant && !TokenBucketLimits.IsValidCost(parsed.Cost.Value))
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidCost, parsed.Cost.Location, parsed.Cost.Value);
        }
        else if (parsed.Cost.IsConstant && parsed.Capacity.IsConstant && TokenBucketLimits.IsValidCapacity(parsed.Capacity.Value) && parsed.Cost.Value > parsed.Capacity.Value)
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.CostAboveCapacity, parsed.Cost.Location, parsed.Cost.Value, parsed.Capacity.Value);
        }

        if (parsed.KeyResolver.IsConstant && parsed.KeyResolver.Value is { } resolver)
        {
            if (resolverInterface is not null && resolver.TypeKind != TypeKind.Error && !(resolver is INamedTypeSymbol named && GateSpecFactory.IsUsableResolver(named, resolverInterface)))
            {
                yield return Diagnostic.Create(DiagnosticDescriptors.InvalidResolver, parsed.KeyResolver.Location, resolver.ToDisplayString());
            }
        }
        else if (parsed.Key.IsConstant && !TokenBucketKey.TryParse(parsed.Key.Value, out _, out _))
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidKey, parsed.Key.Location, parsed.Key.Value ?? "null", TokenBucketKey.ValidForms);
        }

        if (parsed.Bucket.IsConstant && parsed.Bucket.Value is { } bucket && !TokenBucketLimits.IsValidBucketName(bucket))
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.InvalidBucketName, parsed.Bucket.Location, bucket);
        }
    }
}
