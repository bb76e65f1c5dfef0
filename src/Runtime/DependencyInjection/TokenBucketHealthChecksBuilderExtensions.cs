using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using RateGuard;
using RateGuard.Configuration;
using RateGuard.Diagnostics;
using RateGuard.Limiting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the token-bucket store to health checks.</summary>
public static class TokenBucketHealthChecksBuilderExtensions
{
    /// <summary>
    /// Checks that the token-bucket store answers within the decision budget and that its circuit is closed. With
    /// Redis down the app keeps serving under its failure mode, so the default failure status is
    /// <see cref="HealthStatus.Degraded"/>.
    /// </summary>
    public static IHealthChecksBuilder AddTokenBuckets(this IHealthChecksBuilder builder, string name = "token-buckets", HealthStatus failureStatus = HealthStatus.Degraded, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name,
            static services => new TokenBucketStoreHealthCheck(services.GetRequiredService<TokenBucketLimiter>(), services.GetRequiredService<CurrentOptions>()),
            failureStatus,
            tags));
    }
}
