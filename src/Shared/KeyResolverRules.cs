namespace RateGuard;

/// <summary>
/// When a key resolver that dependency injection does not provide may be created with its parameterless constructor,
/// and what a gate says when it may not. Generated gates decide this at compile time and the runtime's fallback gate
/// at startup; both are compiled from this one file, so a resolver is created, or refused with the same words, on
/// either path.
/// </summary>
internal static class KeyResolverRules
{
    /// <summary>
    /// Attributes that retire a constructor: generated code could not call one without a diagnostic in the user's
    /// build, and its author has said it is not to be called, so neither path does.
    /// </summary>
    public static readonly string[] RetiringAttributes =
    [
        "System.ObsoleteAttribute",
        "System.Diagnostics.CodeAnalysis.ExperimentalAttribute",
    ];

    /// <summary>
    /// Whether a parameterless constructor may create the resolver: code in the resolver's assembly can call it
    /// (public, internal or protected internal), no attribute of <see cref="RetiringAttributes"/> marks it, and it
    /// leaves no required member of the type unset.
    /// </summary>
    public static bool MayCreateWith(bool callableFromAssembly, bool retired, bool typeHasRequiredMembers, bool setsRequiredMembers) =>
        callableFromAssembly && !retired && (!typeHasRequiredMembers || setsRequiredMembers);

    /// <summary>Whether <paramref name="attributeFullName"/> names one of <see cref="RetiringAttributes"/>.</summary>
    public static bool IsRetiring(string? attributeFullName)
    {
        foreach (var name in RetiringAttributes)
        {
            if (string.Equals(name, attributeFullName, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The error of a gate whose resolver <paramref name="resolver"/> (its C# display name) DI does not provide and no
    /// constructor may create.
    /// </summary>
    public static string CannotCreate(string resolver) => CannotCreate(resolver, "key resolver");

    /// <summary>The same, for a resolver of another <paramref name="role"/> ("plan resolver").</summary>
    public static string CannotCreate(string resolver, string role) =>
        $"Token bucket {role} {resolver} cannot be created without dependency injection (it has no parameterless constructor, callable from its own assembly and not obsolete, that sets all its required members): register it there.";
}
