using Microsoft.CodeAnalysis;

namespace RateGuard.Generator.Roslyn;

internal static class CompilationExtensions
{
    /// <summary>
    /// The type named <paramref name="metadataName"/> as code in <paramref name="compilation"/> sees it: its own
    /// definition if it has one, else the one visible definition among its references, else <see langword="null"/>.
    /// </summary>
    /// <remarks>
    /// <see cref="Compilation.GetTypeByMetadataName(string)"/> answers <see langword="null"/> as soon as two references
    /// define the name, even when only one of them is visible (an internal polyfill of an attribute in some package is
    /// enough), and the generator would then silently see no limits at all. It is banned in this project
    /// (BannedSymbols.txt) in favour of this.
    /// </remarks>
    public static INamedTypeSymbol? GetBestTypeByMetadataName(this Compilation compilation, string metadataName)
    {
        INamedTypeSymbol? visible = null;
        foreach (var type in compilation.GetTypesByMetadataName(metadataName))
        {
            if (SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, compilation.Assembly))
            {
                return type;
            }
            if (!IsVisibleFrom(type, compilation.Assembly))
            {
                continue;
            }
            if (visible is not null)
            {
                return null; // two visible definitions: the compiler itself would call the name ambiguous
            }
            visible = type;
        }
        return visible;
    }

    private static bool IsVisibleFrom(INamedTypeSymbol type, IAssemblySymbol assembly)
    {
        for (ISymbol? symbol = type; symbol is INamedTypeSymbol named; symbol = named.ContainingType)
        {
            switch (named.DeclaredAccessibility)
            {
                case Accessibility.Public:
                    break;
                case Accessibility.Internal:
                case Accessibility.ProtectedOrInternal:
                    if (!named.ContainingAssembly.GivesAccessTo(assembly))
                    {
                        return false;
                    }
                    break;
                default:
                    return false;
            }
        }
        return true;
    }
}
