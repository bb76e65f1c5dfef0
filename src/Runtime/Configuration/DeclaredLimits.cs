using System.Reflection;
using System.Runtime.CompilerServices;
using RateGuard.CompilerServices;

namespace RateGuard.Configuration;

/// <summary>
/// The limits declared with <c>[assembly: TokenBucketLimit(...)]</c>, by name. Generated code registers an assembly's
/// declarations from its module initializer; an assembly compiled without the generator has its attributes read once,
/// at startup, the first time one of its endpoints or the entry assembly is looked at.
/// </summary>
/// <remarks>
/// Nothing here runs on the request path: a name is resolved when an endpoint's gates are built, and the gate keeps
/// the spec it was built from.
/// </remarks>
internal static class DeclaredLimits
{
    private static readonly object s_lock = new();
    private static readonly Dictionary<string, List<Declaration>> s_byName = new(StringComparer.Ordinal);
    // The assemblies whose declarations are known: registered by generated code, or read from their attributes.
    private static readonly HashSet<Assembly> s_known = [];

    /// <summary>Records a declaration of <paramref name="assembly"/>, as its generated module initializer does.</summary>
    public static void Register(Assembly assembly, string name, TokenBucketSpec spec)
    {
        lock (s_lock)
        {
            s_known.Add(assembly);
            Add(assembly, name, spec);
        }
    }

    /// <summary>
    /// Makes the declarations of <paramref name="assembly"/> known. Its module initializer runs first, so that an
    /// assembly the generator saw registers its own; the attributes are read only when it registered nothing.
    /// </summary>
    public static void Read(Assembly? assembly)
    {
        if (assembly is null)
        {
            return;
        }
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        lock (s_lock)
        {
            if (!s_known.Add(assembly))
            {
                return;
            }
            foreach (var declaration in assembly.GetCustomAttributes<TokenBucketLimitAttribute>())
            {
                Add(assembly, declaration.Name, new TokenBucketSpec(
                    declaration.Capacity,
                    declaration.Rate,
                    declaration.KeyResolver is null ? declaration.Key : null,
                    declaration.Cost,
                    declaration.KeyResolver));
            }
        }
    }

    /// <summary>The spec of the limit named <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">No limit has that name, or two declarations do; the message names the known limits.</exception>
    public static TokenBucketSpec Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Read(Assembly.GetEntryAssembly());
        lock (s_lock)
        {
            if (s_byName.TryGetValue(name, out var declarations))
            {
                if (declarations.Count > 1)
                {
                    var where = string.Join(" and ", declarations.Select(d => d.Assembly.GetName().Name).Distinct(StringComparer.Ordinal));
                    throw new InvalidOperationException($"The token-bucket limit '{name}' is declared {declarations.Count} times (in {where}): {LimitRules.LimitDeclaredOnce}.");
                }
                if (!TokenBucketLimits.IsValidBucketName(name))
                {
                    throw new InvalidOperationException($"The token-bucket limit '{name}' has an invalid name: {LimitRules.DeclaredBucketName}.");
                }
                return declarations[0].Spec;
            }
            throw new InvalidOperationException(Unknown(name));
        }
    }

    /// <summary>
    /// Throws when a name is declared twice, or a declared name is invalid, among the limits known so far (the entry
    /// assembly's included): the app must not start with a declaration that could never be used.
    /// </summary>
    public static void Check()
    {
        Read(Assembly.GetEntryAssembly());
        List<string> names;
        lock (s_lock)
        {
            names = [.. s_byName.Keys];
        }
        foreach (var name in names)
        {
            Get(name);
        }
    }

    /// <summary>The spec of the limit named <paramref name="name"/>, when exactly one declaration has that name.</summary>
    public static bool TryGet(string name, out TokenBucketSpec spec)
    {
        Read(Assembly.GetEntryAssembly());
        lock (s_lock)
        {
            if (s_byName.TryGetValue(name, out var declarations) && declarations.Count == 1)
            {
                spec = declarations[0].Spec;
                return true;
            }
        }
        spec = default;
        return false;
    }

    /// <summary>
    /// The declaration of the limit named <paramref name="name"/> as its assembly's attribute says it, for what the spec
    /// does not carry (where the caller's plan is read from); <see langword="null"/> when it is not declared once.
    /// </summary>
    public static TokenBucketLimitAttribute? DeclarationOf(string name)
    {
        Assembly assembly;
        lock (s_lock)
        {
            if (!s_byName.TryGetValue(name, out var declarations) || declarations.Count != 1)
            {
                return null;
            }
            assembly = declarations[0].Assembly;
        }
        foreach (var declaration in assembly.GetCustomAttributes<TokenBucketLimitAttribute>())
        {
            if (declaration.Name == name)
            {
                return declaration;
            }
        }
        return null;
    }

    /// <summary>The spec of <paramref name="limit"/>: its own, or that of the declared limit it names.</summary>
    public static TokenBucketSpec SpecOf(TokenBucketAttribute limit) =>
        limit.Limit is { } name ? Get(name) : TokenBucketSpec.From(limit);

    private static string Unknown(string name)
    {
        var names = s_byName.Keys.Order(StringComparer.Ordinal).ToList();
        var hint = EditDistance.Closest(names, name, ignoreCase: true) is { } nearest ? $"Did you mean '{nearest}'? " : "";
        var known = names.Count == 0 ? "no limit is declared" : "the declared limits are " + string.Join(", ", names.Select(n => $"'{n}'"));
        return $"No token-bucket limit is named '{name}' ({known}). {hint}Declare it once with [assembly: TokenBucketLimit(\"{name}\", capacity, rate)], or use a declared name.";
    }

    private static void Add(Assembly assembly, string name, TokenBucketSpec spec)
    {
        if (!s_byName.TryGetValue(name, out var declarations))
        {
            s_byName[name] = declarations = [];
        }
        declarations.Add(new Declaration(assembly, spec));
    }

    private sealed record Declaration(Assembly Assembly, TokenBucketSpec Spec);
}
