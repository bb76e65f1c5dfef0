using System.Net;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.CompilerServices;
using RateGuard.Contract.Fixture;

namespace RateGuard.Runtime.Tests.Contract;

/// <summary>
/// The gates that an earlier generator emitted (tests/RateGuard.Contract.Fixture/Frozen) still register with this
/// runtime, are found by the spec of the attribute they were generated from, and read the same keys.
/// </summary>
public sealed class FrozenContractTests
{
    public static TheoryData<string, string, string> Limits => new()
    {
        { nameof(ContractLimits.Header), "header:X-Contract-Key", "client-7" },
        { nameof(ContractLimits.Ip), "ip", "203.0.113.9" },
        { nameof(ContractLimits.Route), "route:tenant", "acme" },
        { nameof(ContractLimits.Claim), "claim:tenant_id", "tenant-42" },
        { nameof(ContractLimits.GlobalWithCost), "global", "global" },
        { nameof(ContractLimits.Resolver), "RateGuard.Contract.Fixture.ContractHostResolver", "contract.example" },
    };

    [Theory]
    [MemberData(nameof(Limits))]
    public void A_frozen_gate_registers_under_its_attribute_spec_and_reads_its_key(string handler, string keyDescription, string key)
    {
        var attribute = typeof(ContractLimits).GetMethod(handler)!.GetCustomAttribute<TokenBucketAttribute>()!;
        RuntimeHelpers.RunModuleConstructor(typeof(ContractLimits).Module.ModuleHandle);

        Assert.True(TokenBucketGateRegistry.TryGet(TokenBucketSpec.From(attribute), out var factory));
        using var services = new ServiceCollection().BuildServiceProvider();
        var gate = factory("contract", services);

        Assert.Same(typeof(ContractLimits).Assembly, gate.GetType().Assembly);
        Assert.Equal("contract", gate.Policy.Name);
        Assert.Equal(attribute.Capacity, gate.Policy.Capacity);
        Assert.Equal(attribute.Rate, gate.Policy.Rate);
        Assert.Equal(attribute.Cost, gate.Policy.Cost);
        Assert.Equal(keyDescription, gate.KeyDescription);
        Assert.Equal(key, gate.GetPartitionKey(Request()));
    }

    [Fact]
    public void A_frozen_gate_reads_no_key_from_a_request_without_one()
    {
        var attribute = typeof(ContractLimits).GetMethod(nameof(ContractLimits.Header))!.GetCustomAttribute<TokenBucketAttribute>()!;
        RuntimeHelpers.RunModuleConstructor(typeof(ContractLimits).Module.ModuleHandle);
        Assert.True(TokenBucketGateRegistry.TryGet(TokenBucketSpec.From(attribute), out var factory));
        using var services = new ServiceCollection().BuildServiceProvider();

        Assert.Null(factory("contract", services).GetPartitionKey(new DefaultHttpContext()));
    }

    private static DefaultHttpContext Request()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["X-Contract-Key"] = "client-7";
        context.Request.RouteValues["tenant"] = "acme";
        context.Request.Host = new HostString("contract.example");
        context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.9");
        context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("tenant_id", "tenant-42")], authenticationType: "test"));
        return context;
    }
}
