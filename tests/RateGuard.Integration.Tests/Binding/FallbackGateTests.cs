using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.CompilerServices;
using RateGuard.Gates;
using RateGuard.Http;
using RateGuard.Integration.Tests.Infrastructure;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Binding;

/// <summary>Limits that no generated code covers still work, through a gate built once at startup.</summary>
public sealed class FallbackGateTests
{
    [Theory]
    [InlineData("/fallback/mvc", 7, "X-Fallback", "mvc")]
    [InlineData("/fallback/minimal?who=ann", 6, null, "minimal")]
    [InlineData("/fallback/dynamic", 4, "X-Dynamic", "dynamic")]
    public async Task A_limit_without_a_generated_gate_is_enforced_by_a_fallback_gate(string url, int capacity, string? header, string expectedBody)
    {
        await using var app = await TestApp.StartAsync();
        (string, string)[] headers = header is null ? [] : [(header, "client-1")];

        var gate = Assert.Single(GatesOf(app, url.Split('?')[0]));
        var statuses = await app.Client.Statuses(url, capacity + 1, headers);
        using var admittedElsewhere = await app.Client.Get(header is null ? url.Replace("ann", "bob") : url, header is null ? [] : [(header, "client-2")]);

        Assert.IsType<FallbackTokenBucketGate>(gate);
        Assert.False(TokenBucketGateRegistry.TryGet(new TokenBucketSpec(gate.Policy.Capacity, gate.Policy.Rate, gate.KeyDescription, 1, null), out _));
        Assert.Equal(Repeat(200, capacity).Then(429), statuses);
        Assert.Equal(expectedBody, await admittedElsewhere.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_limit_declared_in_a_library_compiled_without_the_generator_is_read_from_its_attributes_and_used_by_name()
    {
        await using var app = await TestApp.StartAsync();

        var gate = Assert.Single(GatesOf(app, "/fallback/named"));

        Assert.IsType<FallbackTokenBucketGate>(gate);
        Assert.Equal(("fallback-named", 3, 0.25, "header:X-Fallback"), (gate.Policy.Name, gate.Policy.Capacity, gate.Policy.Rate, gate.KeyDescription));
        Assert.Equal(Repeat(200, 3).Then(429), await app.Client.Statuses("/fallback/named", 4, ("X-Fallback", "named-1")));
    }

    [Fact]
    public async Task A_controller_library_compiled_with_the_generator_gets_its_generated_gates()
    {
        await using var app = await TestApp.StartAsync();

        // Nothing in the library has run before startup; the table runs its module initializer itself.
        var gate = Assert.Single(GatesOf(app, "/library/mvc"));

        Assert.Equal("RateGuard.Generated", gate.GetType().Namespace);
        Assert.Equal(Repeat(200, 8).Then(429), await app.Client.Statuses("/library/mvc", 9, ("X-Library", "l")));
    }

    [Fact]
    public async Task A_limit_in_the_generators_own_compilation_gets_its_generated_gate()
    {
        await using var app = await TestApp.StartAsync();

        var gate = Assert.Single(GatesOf(app, "/minimal/bind"));

        Assert.Equal("RateGuard.Generated", gate.GetType().Namespace);
        Assert.True(TokenBucketGateRegistry.TryGet(new TokenBucketSpec(1, 0.001, "ip", 1, null), out _));
    }

    [Fact]
    public void A_resolver_that_cannot_be_created_without_its_required_members_must_come_from_dependency_injection()
    {
        using var services = new ServiceCollection().BuildServiceProvider();

        var e = Assert.Throws<InvalidOperationException>(() => new FallbackTokenBucketGate(new TokenBucketSpec(5, 1, null, 1, typeof(RequiredHeaderKey)), "required", services));
        var created = new FallbackTokenBucketGate(new TokenBucketSpec(5, 1, null, 1, typeof(DefaultedHeaderKey)), "defaulted", services);

        Assert.Contains("cannot be created without dependency injection", e.Message);
        Assert.EndsWith("DefaultedHeaderKey", created.KeyDescription);
    }

    public sealed class RequiredHeaderKey : ITokenBucketKeyResolver
    {
        public required string Header { get; init; }

        public string? ResolveKey(HttpContext context) => context.Request.Headers[Header];
    }

    public sealed class DefaultedHeaderKey : ITokenBucketKeyResolver
    {
        [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
        public DefaultedHeaderKey() => Header = "X-Tenant";

        public required string Header { get; init; }

        public string? ResolveKey(HttpContext context) => context.Request.Headers[Header];
    }

    private static TokenBucketGate[] GatesOf(TestApp app, string path)
    {
        var table = app.App.Services.GetRequiredService<EndpointGateTable>();
        var endpoint = app.App.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Single(e => "/" + e.RoutePattern.RawText!.TrimStart('/') == path);
        return table.Get(endpoint)?.Gates.Select(g => g.Gate).ToArray() ?? [];
    }
}
