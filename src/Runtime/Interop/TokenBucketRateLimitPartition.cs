using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
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
        var options = services.GetRequiredService<IOptionsMonitor<TokenBucketOptions>>().CurrentValue;
        return new Interop.TokenBucketStoreRateLimiter(
            services.GetRequiredService<TokenBucketLimiter>(),
            policy,
            options.FailureMode,
            partitionKey,
            services.GetRequiredService<TimeProvider>());
    }
}
