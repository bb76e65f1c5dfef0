using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace RateGuard.Contract.Fixture;

/// <summary>
/// The endpoints whose generated gates are frozen in <c>Frozen/</c>: one limit for each key kind that reads the
/// request its own way, a custom resolver, and a cost. The numbers are unlike any other test's, so these gates never
/// stand in for another test's limits in a shared process.
/// </summary>
public static class ContractLimits
{
    /// <summary>Maps one endpoint for each limit.</summary>
    public static IEndpointRouteBuilder MapContractEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/contract/header", Header);
        endpoints.MapGet("/contract/ip", Ip);
        endpoints.MapGet("/contract/route/{tenant}", Route);
        endpoints.MapGet("/contract/claim", Claim);
        endpoints.MapGet("/contract/global", GlobalWithCost);
        endpoints.MapGet("/contract/resolver", Resolver);
        return endpoints;
    }

    [TokenBucket(701, 1.5, Key = "header:X-Contract-Key")]
    public static string Header() => "header";

    [TokenBucket(702, 2)]
    public static string Ip() => "ip";

    [TokenBucket(703, 3, Key = "route:tenant")]
    public static string Route(string tenant) => tenant;

    [TokenBucket(704, 4, Key = "claim:tenant_id")]
    public static string Claim() => "claim";

    [TokenBucket(705, 5, Key = "global", Cost = 5)]
    public static string GlobalWithCost() => "global";

    [TokenBucket(706, 6, KeyResolver = typeof(ContractHostResolver))]
    public static string Resolver() => "resolver";
}

/// <summary>A resolver that generated code creates itself, through its parameterless constructor.</summary>
public sealed class ContractHostResolver : ITokenBucketKeyResolver
{
    /// <inheritdoc />
    public string? ResolveKey(HttpContext context) => context.Request.Host.Host;
}
