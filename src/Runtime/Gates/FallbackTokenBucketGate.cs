using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.CompilerServices;

namespace RateGuard.Gates;

/// <summary>
/// The gate for an attribute that no generated code covers, for example in an assembly compiled without the
/// generator. It is built once at startup: the key is parsed then, so a request only dispatches on its kind.
/// </summary>
internal sealed class FallbackTokenBucketGate : TokenBucketGate
{
    private readonly TokenBucketKeyKind _kind;
    private readonly string? _argument;
    private readonly ITokenBucketKeyResolver? _resolver;

    public FallbackTokenBucketGate(TokenBucketSpec spec, string bucket, IServiceProvider services)
        : base(new TokenBucketPolicy(bucket, spec.Capacity, spec.Rate, spec.Cost), spec.KeyResolver?.FullName ?? spec.Key ?? "")
    {
        if (spec.KeyResolver is { } type)
        {
            _resolver = CreateResolver(type, services);
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

    private static ITokenBucketKeyResolver CreateResolver(
        [System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] Type type,
        IServiceProvider services)
    {
        if (!typeof(ITokenBucketKeyResolver).IsAssignableFrom(type))
        {
            throw new InvalidOperationException($"Token bucket key resolver {type.FullName} does not implement {typeof(ITokenBucketKeyResolver).FullName}.");
        }
        if (services.GetService(type) is ITokenBucketKeyResolver registered)
        {
            return registered;
        }
        // The same rule as generated gates: a constructor that would leave required members unset is no use.
        var constructor = type.GetConstructor(Type.EmptyTypes);
        if (constructor is null
            || (type.IsDefined(typeof(System.Runtime.CompilerServices.RequiredMemberAttribute), inherit: true)
                && !constructor.IsDefined(typeof(System.Diagnostics.CodeAnalysis.SetsRequiredMembersAttribute), inherit: false)))
        {
            throw new InvalidOperationException($"Token bucket key resolver {type.FullName} cannot be created without dependency injection (it has no public parameterless constructor that sets all its required members): register it there.");
        }
        return (ITokenBucketKeyResolver)Activator.CreateInstance(type)!;
    }
}
