using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static RateGuard.Integration.Tests.Gateway.ProxyHost;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>Route limits keyed by a resolver registered in code under a name, as Spring's KeyResolver beans are.</summary>
public sealed class GatewayKeyResolverTests
{
    // The tenant a request names, whatever its case: one bucket per tenant, not per spelling.
    private sealed class TenantKeyResolver : ITokenBucketKeyResolver
    {
        public string? ResolveKey(HttpContext context) =>
            context.Request.Headers["X-Tenant"].ToString() is { Length: > 0 } tenant ? tenant.ToLowerInvariant() : null;
    }

    [Fact]
    public async Task A_route_keyed_by_a_named_resolver_shares_one_bucket_per_resolved_key_and_a_request_without_one_never_reaches_the_backend()
    {
        await using var backend = await CountingBackend.StartAsync();
        await using var proxy = await StartAsync(backend,
        [
            Route("tenants", "/tenants/{**rest}", ("TokenBucket.Capacity", "2"), ("TokenBucket.Rate", "0.01"), ("key-resolver", "resolver:tenant")),
        ], reverseProxy: proxy => proxy.AddTokenBucketKeyResolver<TenantKeyResolver>("tenant"));

        var acme = new[]
        {
            (await proxy.GetAsync("/tenants/a", ("X-Tenant", "ACME"))).Status,
            (await proxy.GetAsync("/tenants/a", ("X-Tenant", "acme"))).Status,
            (await proxy.GetAsync("/tenants/a", ("X-Tenant", "Acme"))).Status,
        };
        var other = (await proxy.GetAsync("/tenants/a", ("X-Tenant", "globex"))).Status;
        var none = (await proxy.GetAsync("/tenants/a")).Status;

        Assert.Equal([200, 200, 429], acme);
        Assert.Equal(200, other);
        Assert.Equal(403, none);
        Assert.Equal(3, backend.Requests);
    }

    [Fact]
    public async Task A_route_naming_an_unregistered_resolver_stops_startup_naming_the_route_and_the_registered_names()
    {
        await using var backend = await CountingBackend.StartAsync();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(backend,
        [
            Route("tenants", "/tenants/{**rest}", ("TokenBucket.Capacity", "2"), ("TokenBucket.Rate", "1"), ("TokenBucket.Key", "resolver:tennant")),
        ], reverseProxy: proxy => proxy.AddTokenBucketKeyResolver<TenantKeyResolver>("tenant")));

        var messages = new List<string>();
        for (Exception? e = failure; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            if (e is AggregateException aggregate)
            {
                messages.AddRange(aggregate.InnerExceptions.SelectMany(i => new[] { i.Message, i.InnerException?.Message ?? "" }));
            }
        }
        Assert.Contains(
            "Route 'tenants': its limit is keyed by the resolver 'tennant', but no key resolver has that name (the registered ones are 'tenant'). Register it with services.AddReverseProxy().AddTokenBuckets().AddTokenBucketKeyResolver<YourResolver>(\"tennant\").",
            messages);
    }
}
