using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.CompilerServices;

namespace RateGuard.Gates;

/// <summary>
/// The gate for an attribute that no generated code covers, for example in an assembly compiled without the
/// generator. It is built once at startup: the key is parsed then, so a request only dispatches on its kind. It
/// behaves as the generated gate of the same attribute would: it reads keys with the same readers, describes a
/// resolver by its C# name, and creates one by the rules of <see cref="KeyResolverRules"/>.
/// </summary>
internal sealed class FallbackTokenBucketGate : TokenBucketGate
{
    private const DynamicallyAccessedMemberTypes ResolverConstructors =
        DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.NonPublicConstructors;

    private readonly TokenBucketKeyKind _kind;
    private readonly string? _argument;
    private readonly ITokenBucketKeyResolver? _resolver;

    public FallbackTokenBucketGate(TokenBucketSpec spec, string bucket, IServiceProvider services)
        : base(new TokenBucketPolicy(bucket, spec.Capacity, spec.Rate, spec.Cost), spec.KeyResolver is { } type ? CSharpTypeName.Of(type) : spec.Key ?? "")
    {
        if (spec.KeyResolver is { } resolver)
        {
            _resolver = CreateResolver(resolver, KeyDescription, services);
            return;
        }
        if (!TokenBucketKey.TryParse(spec.Key, out _kind, out _argument))
        {
            throw new InvalidOperationException($"Token bucket '{bucket}': Key \"{spec.Key}\" is not valid. Use {TokenBucketKey.ValidForms}.");
        }
    }

    public override string? GetPartitionKey(HttpContext context)
    {
        if (_resolver is not null)
        {
            return TokenBucketKeyReaders.Resolved(_resolver.ResolveKey(context));
        }
        return _kind switch
        {
            TokenBucketKeyKind.Ip => TokenBucketKeyReaders.RemoteIp(context, Ipv6PrefixLength),
            TokenBucketKeyKind.User => TokenBucketKeyReaders.User(context),
            TokenBucketKeyKind.Global => TokenBucketKeyReaders.GlobalKey,
            TokenBucketKeyKind.Header => TokenBucketKeyReaders.Header(context, _argument!),
            TokenBucketKeyKind.Query => TokenBucketKeyReaders.Query(context, _argument!),
            TokenBucketKeyKind.Route => TokenBucketKeyReaders.Route(context, _argument!),
            TokenBucketKeyKind.Claim => TokenBucketKeyReaders.Claim(context, _argument!),
            _ => null,
        };
    }

    private static ITokenBucketKeyResolver CreateResolver([DynamicallyAccessedMembers(ResolverConstructors)] Type type, string name, IServiceProvider services)
    {
        if (!typeof(ITokenBucketKeyResolver).IsAssignableFrom(type))
        {
            throw new InvalidOperationException($"Token bucket key resolver {name} does not implement {typeof(ITokenBucketKeyResolver).FullName}.");
        }
        if (services.GetService(type) is ITokenBucketKeyResolver registered)
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
            throw new InvalidOperationException(KeyResolverRules.CannotCreate(name));
        }
        return (ITokenBucketKeyResolver)(constructor is null ? Activator.CreateInstance(type)! : constructor.Invoke(null));
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
