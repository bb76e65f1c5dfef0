using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.CompilerServices;
using RateGuard.Gates;

namespace RateGuard.Integration.Tests.Gates;

/// <summary>
/// One gate behaviour on both paths. Every limit below is written as <c>new TokenBucketAttribute(...)</c>, so this
/// project's generator emits its gate; each case then builds the generated gate and the runtime's fallback gate of the
/// same attribute, and both must give the same policy, the same key description and the same partition key for every
/// request, or fail with the same error. The expected values are spelled out too, so both cannot drift together.
/// </summary>
public sealed class GateConformanceTests
{
    private const string Bucket = "conformance";
    private const int Ipv6PrefixLength = 64;
    private const string Here = "RateGuard.Integration.Tests.Gates.GateConformanceTests";

    // Not a constant, so the generator emits nothing for it and the analyzer has nothing to report: only the runtime
    // meets a resolver type that is not a resolver.
    private static readonly Type s_notAResolver = typeof(NotAResolver);

    private static readonly Dictionary<string, GateCase> s_cases = new()
    {
        ["header"] = new(new TokenBucketAttribute(5, 1) { Key = "header:X-Tenant" }, Keys("acme", null)),
        ["query"] = new(new TokenBucketAttribute(5, 1) { Key = "query:tenant" }, Keys("acme", null)),
        ["route"] = new(new TokenBucketAttribute(5, 1) { Key = "route:id" }, Keys("42", null)),
        ["claim"] = new(new TokenBucketAttribute(5, 1) { Key = "claim:tenant_id" }, Keys("acme", null)),
        ["user"] = new(new TokenBucketAttribute(5, 1) { Key = "user" }, Keys("user-7", null)),
        ["ip"] = new(new TokenBucketAttribute(5, 1) { Key = "ip" }, Keys("2001:db8:1:2::/64", null)),
        ["global"] = new(new TokenBucketAttribute(5, 1) { Key = "global" }, Keys("global", "global")),
        ["cost"] = new(new TokenBucketAttribute(6, 0.5) { Key = "header:X-Tenant", Cost = 3 }, Keys("acme", null)),
        ["public resolver"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(PublicKey) },
            Keys("tenant:acme", null), Here + ".PublicKey"),
        ["internal resolver"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(InternalKey) },
            Keys("tenant:acme", null), Here + ".InternalKey"),
        ["internal constructor"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(InternalConstructorKey) },
            Keys("tenant:acme", null), Here + ".InternalConstructorKey"),
        ["protected internal constructor"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(ProtectedInternalConstructorKey) },
            Keys("tenant:acme", null), Here + ".ProtectedInternalConstructorKey"),
        ["struct resolver"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(StructKey) },
            Keys("tenant:acme", null), Here + ".StructKey"),
        ["required members set by the constructor"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(SetsRequiredKey) },
            Keys("tenant:acme", null), Here + ".SetsRequiredKey"),
        ["generic resolver"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(GenericKey<int?>) },
            Keys("tenant:acme", null), Here + ".GenericKey<int?>"),
        ["generic resolver of a tuple"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(GenericKey<(string, long[])>) },
            Keys("tenant:acme", null), Here + ".GenericKey<(string, long[])>"),
        ["resolver nested in a generic type"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(Outer<PublicKey>.NestedKey) },
            Keys("tenant:acme", null), Here + ".Outer<" + Here + ".PublicKey>.NestedKey"),
        ["resolver that answers empty"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(EmptyKey) },
            Keys(null, null), Here + ".EmptyKey"),
        ["obsolete constructor"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(ObsoleteConstructorKey) },
            Error: CannotCreate(Here + ".ObsoleteConstructorKey")),
        ["obsolete constructor, registered"] = new(new TokenBucketAttribute(5, 2) { KeyResolver = typeof(ObsoleteConstructorKey) },
            Keys("tenant:acme", null), Here + ".ObsoleteConstructorKey", Register: true),
        ["experimental constructor"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(ExperimentalConstructorKey) },
            Error: CannotCreate(Here + ".ExperimentalConstructorKey")),
        ["constructor with parameters"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(ParameterKey) },
            Error: CannotCreate(Here + ".ParameterKey")),
        ["constructor with parameters, registered"] = new(new TokenBucketAttribute(5, 2) { KeyResolver = typeof(ParameterKey) },
            Keys("tenant:acme", null), Here + ".ParameterKey", Register: true),
        ["private constructor"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(PrivateConstructorKey) },
            Error: CannotCreate(Here + ".PrivateConstructorKey")),
        ["private protected constructor"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(PrivateProtectedConstructorKey) },
            Error: CannotCreate(Here + ".PrivateProtectedConstructorKey")),
        ["required members left unset"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(RequiredKey) },
            Error: CannotCreate(Here + ".RequiredKey")),
        ["private resolver type"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = typeof(PrivateKey) },
            Keys("tenant:acme", null), Here + ".PrivateKey", Generated: false),
        ["not a resolver"] = new(new TokenBucketAttribute(5, 1) { KeyResolver = s_notAResolver },
            Error: $"Token bucket key resolver {Here}.NotAResolver does not implement RateGuard.ITokenBucketKeyResolver.", Generated: false),
    };

    public static TheoryData<string> Cases => [.. s_cases.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_limit_gets_the_same_gate_whether_generated_or_built_by_the_runtime(string name)
    {
        var @case = s_cases[name];
        var spec = TokenBucketSpec.From(@case.Attribute);
        using var services = Services(@case.Register ? @case.Attribute.KeyResolver : null);

        var generated = TokenBucketGateRegistry.TryGet(spec, out var factory)
            ? Outcome.Of(() => GateBuilder.Build(factory, Bucket, services, Ipv6PrefixLength))
            : null;
        var fallback = Outcome.Of(() => GateBuilder.BuildFallback(spec, Bucket, services, Ipv6PrefixLength));

        Assert.Equal(@case.Generated, generated is not null);
        var expected = @case.Error is { } error
            ? new Outcome(null, null, null, error)
            : new Outcome(Describe(new TokenBucketPolicy(Bucket, @case.Attribute.Capacity, @case.Attribute.Rate, @case.Attribute.Cost)),
                @case.Description ?? @case.Attribute.Key, @case.Keys, null);
        Assert.Equal(expected, fallback);
        if (generated is not null)
        {
            Assert.Equal(expected, generated);
        }
    }

    [Fact]
    public void Every_key_form_and_resolver_shape_has_a_case()
    {
        var forms = s_cases.Values.Where(c => c.Attribute.KeyResolver is null)
            .Select(c => c.Attribute.Key.Split(':')[0])
            .ToHashSet();

        Assert.Equal(["claim", "global", "header", "ip", "query", "route", "user"], forms.Order());
    }

    [Fact]
    public void A_gate_created_outside_a_build_groups_IPv6_clients_by_their_whole_address()
    {
        Assert.True(TokenBucketGateRegistry.TryGet(TokenBucketSpec.From(s_cases["ip"].Attribute), out var factory));
        using var services = Services(null);

        var gate = factory(Bucket, services);

        Assert.Equal("2001:db8:1:2:3:4:5:6", gate.GetPartitionKey(Requests()[0]));
    }

    private static string CannotCreate(string resolver) =>
        $"Token bucket key resolver {resolver} cannot be created without dependency injection (it has no parameterless constructor, callable from its own assembly and not obsolete, that sets all its required members): register it there.";

    private static string?[] Keys(string? full, string? bare) => [full, bare];

    private static string Describe(TokenBucketPolicy policy) => $"{policy} every {policy.IntervalMicroseconds} µs";

    private static ServiceProvider Services(Type? registered)
    {
        var services = new ServiceCollection();
        if (registered == typeof(ParameterKey))
        {
            services.AddSingleton(new ParameterKey("X-Tenant"));
        }
        else if (registered is not null)
        {
            services.AddSingleton(registered, CreateRegistered);
        }
        return services.BuildServiceProvider();
    }

    // What an app's own registration would do: it may call a constructor the gates themselves must not.
#pragma warning disable CS0618
    private static object CreateRegistered(IServiceProvider _) => new ObsoleteConstructorKey();
#pragma warning restore CS0618

    // A request that has a value for every key form, and one that has none.
    private static HttpContext[] Requests()
    {
        var full = new DefaultHttpContext();
        full.Request.Headers["X-Tenant"] = "acme";
        full.Request.QueryString = new QueryString("?tenant=acme");
        full.Request.RouteValues["id"] = 42;
        full.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "user-7"), new Claim("tenant_id", "acme")], "test"));
        full.Connection.RemoteIpAddress = IPAddress.Parse("2001:db8:1:2:3:4:5:6");
        var bare = new DefaultHttpContext();
        bare.Request.Headers["X-Tenant"] = "";
        return [full, bare];
    }

    private sealed record GateCase(
        TokenBucketAttribute Attribute,
        string?[]? Keys = null,
        string? Description = null,
        string? Error = null,
        bool Register = false,
        bool Generated = true);

    // What building a gate came to: its policy, description and keys, or the error that stopped it.
    private sealed record Outcome(string? Policy, string? Description, string?[]? Keys, string? Error)
    {
        public static Outcome Of(Func<TokenBucketGate> build)
        {
            TokenBucketGate gate;
            try
            {
                gate = build();
            }
            catch (InvalidOperationException e)
            {
                return new Outcome(null, null, null, e.Message);
            }
            var keys = Requests().Select(gate.GetPartitionKey).ToArray();
            return new Outcome(Describe(gate.Policy), gate.KeyDescription, keys, null);
        }

        public bool Equals(Outcome? other) =>
            other is not null && Policy == other.Policy && Description == other.Description && Error == other.Error
            && (Keys ?? []).SequenceEqual(other.Keys ?? []);

        public override int GetHashCode() => HashCode.Combine(Policy, Description, Error);

        public override string ToString() =>
            Error ?? $"{Policy}; {Description}; [{string.Join(", ", (Keys ?? []).Select(k => k ?? "null"))}]";
    }

    public sealed class NotAResolver;

    public sealed class PublicKey : ITokenBucketKeyResolver
    {
        public string? ResolveKey(HttpContext context) => Tenant(context);
    }

    internal sealed class InternalKey : ITokenBucketKeyResolver
    {
        public string? ResolveKey(HttpContext context) => Tenant(context);
    }

    public sealed class InternalConstructorKey : ITokenBucketKeyResolver
    {
        internal InternalConstructorKey()
        {
        }

        public string? ResolveKey(HttpContext context) => Tenant(context);
    }

    public class ProtectedInternalConstructorKey : ITokenBucketKeyResolver
    {
        protected internal ProtectedInternalConstructorKey()
        {
        }

        public string? ResolveKey(HttpContext context) => Tenant(context);
    }

    public class PrivateProtectedConstructorKey : ITokenBucketKeyResolver
    {
        private protected PrivateProtectedConstructorKey()
        {
        }

        public string? ResolveKey(HttpContext context) => Tenant(context);
    }

    public readonly struct StructKey : ITokenBucketKeyResolver
    {
        public string? ResolveKey(HttpContext context) => Tenant(context);
    }

    public sealed class GenericKey<T> : ITokenBucketKeyResolver
    {
        public string? ResolveKey(HttpContext context) => Tenant(context);
    }

    public static class Outer<T>
    {
        public sealed class NestedKey : ITokenBucketKeyResolver
        {
            public string? ResolveKey(HttpContext context) => Tenant(context);
        }
    }

    public sealed class EmptyKey : ITokenBucketKeyResolver
    {
        public string? ResolveKey(HttpContext context) => "";
    }

    public sealed class ObsoleteConstructorKey : ITokenBucketKeyResolver
    {
        [Obsolete("Register the resolver in dependency injection.")]
        public ObsoleteConstructorKey()
        {
        }

        public string? ResolveKey(HttpContext context) => Tenant(context);
    }

    public sealed class ExperimentalConstructorKey : ITokenBucketKeyResolver
    {
        [Experimental("RGTEST0001")]
        public ExperimentalConstructorKey()
        {
        }

        public string? ResolveKey(HttpContext context) => Tenant(context);
    }

    public sealed class ParameterKey(string header) : ITokenBucketKeyResolver
    {
        public string? ResolveKey(HttpContext context) => Tenant(context, header);
    }

    public sealed class PrivateConstructorKey : ITokenBucketKeyResolver
    {
        private PrivateConstructorKey()
        {
        }

        public string? ResolveKey(HttpContext context) => Tenant(context);
    }

    public sealed class RequiredKey : ITokenBucketKeyResolver
    {
        public required string Header { get; init; }

        public string? ResolveKey(HttpContext context) => Tenant(context);
    }

    public sealed class SetsRequiredKey : ITokenBucketKeyResolver
    {
        [SetsRequiredMembers]
        public SetsRequiredKey() => Header = "X-Tenant";

        public required string Header { get; init; }

        public string? ResolveKey(HttpContext context) => Tenant(context, Header);
    }

    private sealed class PrivateKey : ITokenBucketKeyResolver
    {
        public string? ResolveKey(HttpContext context) => Tenant(context);
    }

    // "tenant:acme" for the full request; the bare one's empty header gives "tenant:", which is a key too, so the
    // resolvers answer only when there is a value.
    private static string? Tenant(HttpContext context, string header = "X-Tenant") =>
        context.Request.Headers[header] is { Count: > 0 } values && values[0] is { Length: > 0 } tenant ? "tenant:" + tenant : null;
}
