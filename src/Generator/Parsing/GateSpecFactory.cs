using Microsoft.CodeAnalysis;
using RateGuard.Generator.Models;
using RateGuard.Generator.Roslyn;

namespace RateGuard.Generator.Parsing;

/// <summary>Turns a parsed limit into the spec of a gate, when the runtime would accept it.</summary>
internal static class GateSpecFactory
{
    /// <summary>
    /// The gate spec of <paramref name="parsed"/>, or <see langword="null"/> when a value is not a compile-time
    /// constant or is invalid. Such limits get no generated gate: the runtime builds one at startup or, if the limit
    /// is invalid, fails at startup, and the analyzer reports it at the attribute.
    /// </summary>
    public static GateSpec? TryCreate(ParsedTokenBucket parsed, Compilation compilation)
    {
        if (!parsed.IsFullyConstant || !TokenBucketLimits.IsValidCapacity(parsed.Capacity.Value) || !TokenBucketLimits.IsValidRate(parsed.Rate.Value)
            || !TokenBucketLimits.IsValidCost(parsed.Cost.Value) || !TokenBucketLimits.IsValidWindow(parsed.Capacity.Value, parsed.Rate.Value))
        {
            return null;
        }

        if (parsed.KeyResolver.Value is INamedTypeSymbol resolver)
        {
            var resolverInterface = compilation.GetBestTypeByMetadataName(TokenBucketArgumentParser.ResolverInterfaceMetadataName);
            // A resolver that file-level code cannot name (private, file-local, or through a type parameter as in
            // typeof(TenantKey<T>) inside a generic method) gets no generated gate: the runtime builds it at startup.
            if (!IsUsableResolver(resolver, resolverInterface) || !CanName(resolver))
            {
                return null;
            }
            // Generated code may create the resolver only through a constructor the runtime's fallback gate would use too.
            var hasParameterlessConstructor = resolver.InstanceConstructors.Any(c => c.Parameters.Length == 0
                && KeyResolverRules.MayCreateWith(
                    compilation.IsSymbolAccessibleWithin(c, compilation.Assembly),
                    c.GetAttributes().Any(a => KeyResolverRules.IsRetiring(a.AttributeClass?.ToDisplayString())),
                    HasRequiredMembers(resolver),
                    HasAttribute(c, "System.Diagnostics.CodeAnalysis.SetsRequiredMembersAttribute")));
            return new GateSpec(parsed.Capacity.Value, parsed.Rate.Value, null, parsed.Cost.Value, new ResolverSpec(
                resolver.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                resolver.ToDisplayString(),
                hasParameterlessConstructor));
        }
        if (parsed.KeyResolver.Value is not null || !TokenBucketKey.TryParse(parsed.Key.Value, out _, out _))
        {
            return null;
        }
        return new GateSpec(parsed.Capacity.Value, parsed.Rate.Value, parsed.Key.Value, parsed.Cost.Value, null);
    }

    /// <summary>Whether <paramref name="resolver"/> is a concrete, closed type implementing the resolver interface.</summary>
    public static bool IsUsableResolver(INamedTypeSymbol resolver, INamedTypeSymbol? resolverInterface) =>
        resolverInterface is not null && Implements(resolver, resolverInterface) && !resolver.IsAbstract && !resolver.IsUnboundGenericType;

    public static bool Implements(ITypeSymbol type, INamedTypeSymbol @interface) =>
        type.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i, @interface));

    private static bool HasAttribute(ISymbol symbol, string metadataName) =>
        symbol.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == metadataName);

    private static bool HasRequiredMembers(INamedTypeSymbol type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (current.GetMembers().Any(m => m is IPropertySymbol { IsRequired: true } or IFieldSymbol { IsRequired: true }))
            {
                return true;
            }
        }
        return false;
    }

    // Whether file-level generated code can name the type: it, its containing types and its type arguments are all
    // visible from the assembly, and none is a type parameter.
    private static bool CanName(ITypeSymbol type)
    {
        switch (type)
        {
            case ITypeParameterSymbol:
                return false;
            case IArrayTypeSymbol array:
                return CanName(array.ElementType);
        }
        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (current.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal) || current is INamedTypeSymbol { IsFileLocal: true })
            {
                return false;
            }
            if (current is INamedTypeSymbol named && !named.TypeArguments.All(CanName))
            {
                return false;
            }
        }
        return true;
    }
}
