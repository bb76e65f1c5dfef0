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
    private readonly TokenBucketKeyKind _kind;
    private readonly string? _argument;
    private readonly ITokenBucketKeyResolver? _resolver;

    public FallbackTokenBucketGate(TokenBucketSpec spec, string bucket, IServiceProvider services)
        : base(new TokenBucketPolicy(bucket, spec.Capacity, spec.Rate, spec.Cost), spec.KeyResolver is { } type ? CSharpTypeName.Of(type) : spec.Key ?? "")
    {
        if (spec.KeyResolver is { } resolver)
        {
            _resolver = ResolverInstances.Create<ITokenBucketKeyResolver>(resolver, KeyDescription, "key resolver", services);
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
}
