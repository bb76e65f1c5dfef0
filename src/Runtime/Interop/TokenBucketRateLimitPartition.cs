using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Configuration;
using RateGuard.Limiting;

namespace RateGuard;

/// <summary>
/// This project's token buckets for apps already on <c>AddRateLimiter</c>/<c>UseRateLimiter</c>: a policy or a global
/// limiter switches to the distributed store without any change to the endpoints. Requires
/// <c>services.AddTokenBuckets(...)</c>.
/// </summary>
public static class TokenBucketRateLimitPartition
{
    /// <summary>
    /// A partition whose limiter is the bucket of <paramref name="partitionKey"/> in the configured store, for
    /// <c>RateLimiterOptions.AddPolicy(name, context => TokenBucketRateLimitPartition.Get(context, key, policy))</c>.
    /// </summary>
    public static RateLimitPartition<string> Get(HttpContext context, string partitionKey, TokenBucketPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(policy);
        var services = context.RequestServices;
        return RateLimitPartition.Get(partitionKey, key => Create(services, policy, key));
    }

    /// <summary>
    /// A <see cref="PartitionedRateLimiter{TResource}"/> over the configured store, for
    /// <c>RateLimiterOptions.GlobalLimiter</c> or direct use.
    /// </summary>
    public static PartitionedRateLimiter<HttpContext> CreatePartitioned(TokenBucketPolicy policy, Func<HttpContext, string> partitionKey)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(partitionKey);
        return PartitionedRateLimiter.Create<HttpContext, string>(context => Get(context, partitionKey(context), policy));
    }

    /// <summary>One bucket of the configured store as a <see cref="RateLimiter"/>.</summary>
    public static RateLimiter Create(IServiceProvider services, TokenBucketPolicy policy, string partitionKey)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(partitionKey);
        // Configuration (failure mode, overrides) is read per acquisition by the limiter, not here: a partition may
        // live for as long as its key stays busy, and an invalid reload must not fail the request that creates one.
        return new Interop.TokenBucketStoreRateLimiter(
            services.GetRequiredService<TokenBucketLimiter>(),
            services.GetRequiredService<ConfiguredPolicies>(),
            policy,
            partitionKey,
            services.GetRequiredService<TimeProvider>());
    }
}
