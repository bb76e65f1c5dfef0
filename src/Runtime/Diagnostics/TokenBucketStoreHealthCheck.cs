using Microsoft.Extensions.Diagnostics.HealthChecks;
using RateGuard.Limiting;
using RateGuard.Stores;

namespace RateGuard.Diagnostics;

/// <summary>
/// Reports whether token buckets are being enforced as configured: Redis answering within the decision budget and the
/// circuit closed. An in-memory store is healthy but says its limits are per process.
/// </summary>
internal sealed class TokenBucketStoreHealthCheck(TokenBucketLimiter limiter) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        switch (limiter.Store)
        {
            case InMemoryTokenBucketStore memory:
                return HealthCheckResult.Healthy($"In-memory token buckets ({memory.Count} held); limits apply per process.");
            case RedisTokenBucketStore redis:
                if (redis.Connection is not { } connection)
                {
                    return new HealthCheckResult(context.Registration.FailureStatus, "The connection to Redis has not been made yet; the failure mode applies.");
                }
                if (limiter.CircuitState != CircuitState.Closed)
                {
                    return new HealthCheckResult(context.Registration.FailureStatus, $"The Redis circuit is {limiter.CircuitState}; the failure mode applies.");
                }
                try
                {
                    var latency = await connection.GetDatabase().PingAsync().WaitAsync(limiter.Options.Timeout, cancellationToken).ConfigureAwait(false);
                    return HealthCheckResult.Healthy($"Redis answered PING in {latency.TotalMilliseconds:F1} ms.");
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    var reason = e is TimeoutException ? "did not answer PING within the decision budget" : $"failed PING ({e.GetType().Name})";
                    return new HealthCheckResult(context.Registration.FailureStatus, $"Redis {reason}; the failure mode applies.", e);
                }
            default:
                return HealthCheckResult.Healthy($"Token buckets in {limiter.Store.GetType().Name}.");
        }
    }
}
