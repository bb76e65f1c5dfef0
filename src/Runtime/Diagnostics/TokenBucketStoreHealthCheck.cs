using Microsoft.Extensions.Diagnostics.HealthChecks;
using RateGuard.Configuration;
using RateGuard.Limiting;
using RateGuard.Operations;

namespace RateGuard.Diagnostics;

/// <summary>
/// Reports whether token buckets are being enforced as configured: a remote store's circuit closed and the store
/// answering its own check within the decision budget. A local store is not guarded by a circuit, so only its own
/// check counts (the in-memory store's is always healthy, and says its limits are per process).
/// </summary>
internal sealed class TokenBucketStoreHealthCheck(TokenBucketLimiter limiter, CurrentOptions options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var store = limiter.Store;
        // While a circuit is open the failure mode decides, whatever the store would answer: it is not asked.
        if (!store.IsLocal && limiter.CircuitState is var circuit && circuit != CircuitState.Closed)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"The {store.Name} store's circuit is {circuit}; the failure mode applies.");
        }
        try
        {
            return HealthCheckResult.Healthy(await store.CheckHealthAsync(options.Value.Timeout, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A store says why it cannot decide, and the report keeps what went wrong underneath; anything else it
            // throws is named by its type.
            return e is TokenBucketStoreUnavailableException unavailable
                ? new HealthCheckResult(context.Registration.FailureStatus, $"{unavailable.Message}; the failure mode applies.", unavailable.InnerException ?? unavailable)
                : new HealthCheckResult(context.Registration.FailureStatus, $"The {store.Name} store failed its health check ({e.GetType().Name}); the failure mode applies.", e);
        }
    }
}
