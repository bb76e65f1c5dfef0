using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using RateGuard.Diagnostics;
using RateGuard.Limiting;
using StackExchange.Redis;

namespace RateGuard.Runtime.Tests.Resilience;

/// <summary>The limiter as the app gets it from DI, over a given Redis connection, with its metrics collected.</summary>
public sealed class LimiterHarness : IDisposable
{
    private readonly ServiceProvider _services;

    public LimiterHarness(IConnectionMultiplexer redis, Action<TokenBucketOptions>? configure = null)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton(redis);
        // A generous budget unless a test sets its own: these tests are about decisions, and a loaded machine must not
        // turn them into failure-mode answers.
        services.AddTokenBuckets(o =>
        {
            o.Timeout = TimeSpan.FromSeconds(5);
            configure?.Invoke(o);
        });
        _services = services.BuildServiceProvider();
        Limiter = _services.GetRequiredService<TokenBucketLimiter>();
        var meters = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        Decisions = new MetricCollector<long>(meters, TokenBucketMetrics.MeterName, TokenBucketMetrics.DecisionsInstrument);
        StoreDurations = new MetricCollector<double>(meters, TokenBucketMetrics.MeterName, TokenBucketMetrics.StoreDurationInstrument);
        Breaker = new MetricCollector<int>(meters, TokenBucketMetrics.MeterName, TokenBucketMetrics.BreakerStateInstrument);
    }

    internal TokenBucketLimiter Limiter { get; }

    public MetricCollector<long> Decisions { get; }

    public MetricCollector<double> StoreDurations { get; }

    public MetricCollector<int> Breaker { get; }

    internal ValueTask<LimiterResult> Acquire(TokenBucketPolicy policy, string key, FailureMode mode = FailureMode.Open) =>
        Limiter.AcquireAsync(policy, mode, key, CancellationToken.None);

    /// <summary>How many decisions of <paramref name="result"/> the meter counted for <paramref name="bucket"/>.</summary>
    public long Count(string bucket, string result) =>
        Decisions.GetMeasurementSnapshot()
            .Where(m => (string?)m.Tags["rateguard.bucket"] == bucket && (string?)m.Tags["rateguard.result"] == result)
            .Sum(m => m.Value);

    public void Dispose()
    {
        Decisions.Dispose();
        StoreDurations.Dispose();
        Breaker.Dispose();
        _services.Dispose();
    }
}
