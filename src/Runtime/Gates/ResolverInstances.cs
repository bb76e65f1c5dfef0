using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace RateGuard.Gates;

/// <summary>
/// Gets the instance of a resolver type named in an attribute (a key resolver, a plan resolver): the one registered
/// in DI, or one created with its parameterless constructor by the rules of <see cref="KeyResolverRules"/>, which
/// generated code follows too. Runs when gates are built, never on a request.
/// </summary>
internal static class ResolverInstances
{
    public const DynamicallyAccessedMemberTypes Constructors =
        DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.NonPublicConstructors;

    /// <param name="type">The type named in the attribute.</param>
    /// <param name="name">The type as C# names it, for messages.</param>
    /// <param name="role">What the type is for, as a message says it ("key resolver").</param>
    /// <param name="services">The app's services, where a registered instance is taken from.</param>
    public static TResolver Create<TResolver>([DynamicallyAccessedMembers(Constructors)] Type type, string name, string role, IServiceProvider services)
        where TResolver : class
    {
        if (!typeof(TResolver).IsAssignableFrom(type))
        {
            throw new InvalidOperationException($"Token bucket {role} {name} does not implement {typeof(TResolver).FullName}.");
        }
        if (services.GetService(type) is TResolver registered)
        {
            return registered;
        }
        // Public first, then the others, each a lookup that trimming keeps the constructors of (see the annotation).
        var constructor = type.GetConstructor(Type.EmptyTypes) ?? type.GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic, Type.EmptyTypes);
        var hasRequiredMembers = type.IsDefined(typeof(RequiredMemberAttribute), inherit: true);
        var mayCreate = constructor is not null
            ? KeyResolverRules.MayCreateWith(
                constructor.IsPublic || constructor.IsAssembly || constructor.IsFamilyOrAssembly,
                IsRetired(constructor),
                hasRequiredMembers,
                constructor.IsDefined(typeof(SetsRequiredMembersAttribute), inherit: false))
            // A struct without a parameterless constructor of its own has the implicit one, which generated code calls
            // as new T(): public, not retired, and it sets no member.
            : type.IsValueType && KeyResolverRules.MayCreateWith(callableFromAssembly: true, retired: false, hasRequiredMembers, setsRequiredMembers: false);
        if (!mayCreate)
        {
            throw new InvalidOperationException(KeyResolverRules.CannotCreate(name, role));
        }
        return (TResolver)(constructor is null ? Activator.CreateInstance(type)! : constructor.Invoke(null));
    }

    private static bool IsRetired(ConstructorInfo constructor)
    {
        foreach (var attribute in constructor.GetCustomAttributesData())
        {
            if (KeyResolverRules.IsRetiring(attribute.AttributeType.FullName))
            {
                return true;
            }
        }
        return false;
    }
}
