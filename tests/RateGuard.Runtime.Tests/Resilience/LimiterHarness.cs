using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using RateGuard.Configuration;
using RateGuard.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Stores;
using StackExchange.Redis;

namespace RateGuard.Runtime.Tests.Resilience;

/// <summary>The limiter as the app gets it from DI, over a given Redis connection, with its metrics collected.</summary>
public sealed class LimiterHarness : IDisposable
{
    private readonly ServiceProvider _services;

    public LimiterHarness(IConnectionMultiplexer redis, Action<TokenBucketOptions>? configure = null)
        : this(services => services.AddSingleton(redis), configure)
    {
    }

    /// <summary>A limiter over a given Redis connection that reads <paramref name="time"/> for its own clock.</summary>
    public LimiterHarness(IConnectionMultiplexer redis, TimeProvider time, Action<TokenBucketOptions>? configure = null)
        : this(services => services.AddSingleton(redis).AddSingleton(time), configure)
    {
    }

    /// <summary>A limiter over a store the app registers itself.</summary>
    public LimiterHarness(ITokenBucketStore store, Action<TokenBucketOptions>? configure = null)
        : this(services => services.AddSingleton(store), configure)
    {
    }

    /// <summary>A limiter that makes its own connection from <c>TokenBuckets:Redis</c>, as an app configured that way does.</summary>
    public LimiterHarness(Action<TokenBucketOptions> configure, TimeProvider? time = null)
        : this(services =>
        {
            if (time is not null)
            {
                services.AddSingleton(time);
            }
        }, configure)
    {
    }

    private LimiterHarness(Action<IServiceCollection> register, Action<TokenBucketOptions>? configure)
    {
        var services = new ServiceCollection().AddLogging(logging => logging.AddFakeLogging());
        register(services);
        // A generous budget unless a test sets its own: these tests are about decisions, and a loaded machine must not
        // turn them into failure-mode answers.
        services.AddTokenBuckets(o =>
        {
            o.Timeout = TimeSpan.FromSeconds(5);
            configure?.Invoke(o);
        });
        services.AddHealthChecks().AddTokenBuckets();
        _services = services.BuildServiceProvider();
        Limiter = _services.GetRequiredService<TokenBucketLimiter>();
        var meters = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        Decisions = new MetricCollector<long>(meters, TokenBucketMetrics.MeterName, TokenBucketMetrics.RequestsInstrument);
        StoreDurations = new MetricCollector<double>(meters, TokenBucketMetrics.MeterName, TokenBucketMetrics.StoreDurationInstrument);
        Breaker = new MetricCollector<int>(meters, TokenBucketMetrics.MeterName, TokenBucketMetrics.CircuitStateInstrument);
        Logs = _services.GetRequiredService<FakeLogCollector>();
    }

    /// <summary>Everything the limiter logged.</summary>
    public FakeLogCollector Logs { get; }

    internal RedisTokenBucketStore RedisStore => (RedisTokenBucketStore)Limiter.Store;

    /// <summary>Waits until the limiter's own connection is made.</summary>
    public async Task ConnectedAsync()
    {
        await RedisStore.Connecting;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (RedisStore.Connection is not { IsConnected: true })
        {
            Assert.True(DateTime.UtcNow < deadline, "The limiter's connection was not made within 10 s.");
            await Task.Delay(20);
        }
    }

    internal TokenBucketLimiter Limiter { get; }

    /// <summary>The app's services.</summary>
    internal IServiceProvider Services => _services;

    /// <summary>The client overrides this instance applies, as requests read them.</summary>
    internal RateGuard.Clients.ClientOverrides ClientOverrides => _services.GetRequiredService<RateGuard.Clients.ClientOverrides>();

    /// <summary>The operations service of the same app.</summary>
    public RateGuard.Operations.ITokenBucketOperations Operations => _services.GetRequiredService<RateGuard.Operations.ITokenBucketOperations>();

    public MetricCollector<long> Decisions { get; }

    public MetricCollector<double> StoreDurations { get; }

    public MetricCollector<int> Breaker { get; }

    /// <summary>What configuration makes of <paramref name="policy"/>'s bucket, which makes it known, as the RateLimiter adapter's first request does.</summary>
    internal ConfiguredPolicy Configured(TokenBucketPolicy policy) => _services.GetRequiredService<ConfiguredPolicies>().Of(policy);

    internal ValueTask<LimiterResult> Acquire(TokenBucketPolicy policy, string key, FailureMode mode = FailureMode.Open) =>
        Limiter.AcquireAsync(policy, mode, key, CancellationToken.None);

    /// <summary>What the app's token-bucket health check reports now.</summary>
    public async Task<HealthReportEntry> CheckHealthAsync()
    {
        var report = await _services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries["token-buckets"];
    }

    /// <summary>How many decisions of <paramref name="result"/> the meter counted for <paramref name="bucket"/>.</summary>
    public long Count(string bucket, string result) =>
        Decisions.GetMeasurementSnapshot()
            .Where(m => (string?)m.Tags["rateguard.rate_limiting.policy"] == bucket && (string?)m.Tags["rateguard.rate_limiting.result"] == result)
            .Sum(m => m.Value);

    public void Dispose()
    {
        Decisions.Dispose();
        StoreDurations.Dispose();
        Breaker.Dispose();
        _services.Dispose();
    }
}
