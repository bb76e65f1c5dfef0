using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RateGuard;
using RateGuard.Configuration;
using RateGuard.Diagnostics;
using RateGuard.Http;
using RateGuard.Http.Sharing;
using RateGuard.Limiting;
using RateGuard.Operations;
using RateGuard.Stores;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers token-bucket rate limiting.</summary>
public static class TokenBucketServiceCollectionExtensions
{
    /// <summary>Adds token-bucket rate limiting, configured from <paramref name="configuration"/> (usually the <c>TokenBuckets</c> section).</summary>
    public static IServiceCollection AddTokenBuckets(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<TokenBucketOptions>().Bind(configuration);
        // A section of its own (TokenBuckets) holds nothing but these settings, so a key no setting reads is a typo.
        // The whole configuration is shared with the rest of the app, and is not checked.
        if (configuration is IConfigurationSection section)
        {
            services.AddSingleton<IValidateOptions<TokenBucketOptions>>(new TokenBucketConfigurationKeys(section));
        }
        return services.AddTokenBucketsCore();
    }

    /// <summary>
    /// Declares bucket names that only the <c>RateLimiter</c> adapter (<see cref="TokenBucketRateLimitPartition"/>)
    /// uses. Its buckets are created on request, so without this an override under <c>TokenBuckets:Buckets</c> for
    /// one of them would be reported at startup as naming no bucket.
    /// </summary>
    public static IServiceCollection AddTokenBucketNames(this IServiceCollection services, params string[] names)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(names);
        foreach (var name in names)
        {
            TokenBucketPolicy.ThrowIfInvalidName(name, nameof(names));
            services.AddSingleton(new TokenBucketName(name));
        }
        return services;
    }

    /// <summary>
    /// Declares the plans of bucket <paramref name="bucket"/>, and the clients it exempts or denies, for limits that read
    /// the caller's plan (<see cref="TokenBucketAttribute.Plan"/> or <see cref="TokenBucketAttribute.PlanResolver"/>).
    /// Configuration under <c>TokenBuckets:Buckets:&lt;bucket&gt;</c> changes each plan's values without a rebuild.
    /// </summary>
    /// <example><code>
    /// services.AddTokenBucketPlans("api", plans => plans
    ///     .Plan("free", capacity: 100, rate: 100.0 / 60)
    ///     .Plan("pro", capacity: 10_000, rate: 10_000.0 / 60)
    ///     .Unlimited("internal"));
    /// </code></example>
    public static IServiceCollection AddTokenBucketPlans(this IServiceCollection services, string bucket, Action<TokenBucketPlanBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        TokenBucketPolicy.ThrowIfInvalidName(bucket, nameof(bucket));
        var plans = new TokenBucketPlanBuilder(bucket);
        configure(plans);
        services.AddSingleton(plans);
        return services;
    }

    /// <summary>Adds token-bucket rate limiting, configured by <paramref name="configure"/>.</summary>
    public static IServiceCollection AddTokenBuckets(this IServiceCollection services, Action<TokenBucketOptions>? configure = null)
    {
        var builder = services.AddOptions<TokenBucketOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }
        return services.AddTokenBucketsCore();
    }

    private static IServiceCollection AddTokenBucketsCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static services => new KnownBuckets(services.GetServices<TokenBucketName>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenBucketOptions>, TokenBucketOptionsValidator>());
        services.AddOptions<TokenBucketOptions>().ValidateOnStart();
        services.AddMetrics();
        // Limited endpoints declare their 429 and missing-key responses to API Explorer, and so to OpenAPI documents.
        services.TryAddEnumerable(ServiceDescriptor.Transient<Microsoft.AspNetCore.Mvc.ApiExplorer.IApiDescriptionProvider, TokenBucketApiDescriptionProvider>());
        // A controller's limits are one bucket its actions share, as a route group's are.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<Microsoft.AspNetCore.Mvc.MvcOptions>, ControllerLimitConvention>());
        services.TryAddSingleton(static services => new CurrentOptions(services.GetRequiredService<IOptionsMonitor<TokenBucketOptions>>()));
        services.TryAddSingleton(static services => new ConfiguredPolicies(
            services.GetRequiredService<CurrentOptions>(),
            services.GetRequiredService<KnownBuckets>(),
            services.GetRequiredService<ILoggerFactory>().CreateLogger("RateGuard")));
        services.TryAddSingleton<ITokenBucketStore>(CreateStore);
        services.TryAddSingleton(static services => new RateGuard.Clients.ClientOverrides(services.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(RateGuard.Clients.DeclaredPlans.From);
        services.TryAddSingleton(static services => new TokenBucketMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton(static services => new TokenBucketLimiter(
            services.GetRequiredService<ITokenBucketStore>(),
            services.GetRequiredService<CurrentOptions>(),
            services.GetRequiredService<TokenBucketMetrics>(),
            services.GetRequiredService<ILoggerFactory>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<RateGuard.Clients.ClientOverrides>()));
        services.TryAddSingleton(static services => new EndpointGateTable(services));
        services.TryAddSingleton<ITokenBucketOperations>(static services => new TokenBucketOperations(
            services.GetRequiredService<TokenBucketLimiter>(),
            services.GetRequiredService<ConfiguredPolicies>(),
            services.GetRequiredService<CurrentOptions>(),
            services.GetRequiredService<KnownBuckets>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILoggerFactory>().CreateLogger("RateGuard")));
        // Resolving the store at startup makes the store choice, and its warning, visible before the first request.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TokenBucketStartup>());
        return services;
    }

    // Set once an app of this process has warned that its buckets live in memory.
    private static int s_inMemoryWarned;

    private static ITokenBucketStore CreateStore(IServiceProvider services)
    {
        // Reading the options validates them: a TokenBuckets:Redis that names no usable endpoint throws here, before
        // anything connects, rather than leaving every limit on its failure mode for good.
        var options = services.GetRequiredService<CurrentOptions>().Value;
        var time = services.GetRequiredService<TimeProvider>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("RateGuard");
        var clientClock = options.Clock == TokenBucketClock.Client ? time : null;

        if (!string.IsNullOrWhiteSpace(options.Redis))
        {
            var configuration = ConfigurationOptions.Parse(options.Redis);
            if (!string.IsNullOrWhiteSpace(options.RedisCaCertificate))
            {
                configuration.TrustIssuer(options.RedisCaCertificate);
            }
            // The app must start, and fail by its configured rules, while Redis is unreachable: connect in the
            // background, fail commands at once while disconnected (a queued command would still take tokens after
            // its request had moved on), and reconnect quickly once Redis is back.
            configuration.AbortOnConnectFail = false;
            configuration.BacklogPolicy = BacklogPolicy.FailFast;
            configuration.ReconnectRetryPolicy = new ExponentialRetry(100, 1000);
            var connecting = ConnectionMultiplexer.ConnectAsync(configuration).ContinueWith(t =>
            {
                // An unreachable server still yields a connection that keeps retrying; only a configuration it cannot
                // use at all fails here, and that deserves more than silence.
                if (t.IsFaulted)
                {
                    Log.ConnectFailed(logger, t.Exception!.GetBaseException());
                }
                return (IConnectionMultiplexer)t.Result;
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            Log.UsingRedisStore(logger, string.Join(",", configuration.EndPoints.Select(RedisTokenBucketStore.Format)), options.Clock);
            var endpoints = string.Join(",", configuration.EndPoints.Select(RedisTokenBucketStore.Format));
            return new RedisTokenBucketStore(connecting, options.KeyPrefix, clientClock, ownsConnection: true, time, endpoints);
        }

        if (services.GetService<IConnectionMultiplexer>() is { } shared)
        {
            Log.UsingRedisStore(logger, string.Join(",", shared.GetEndPoints().Select(e => e.ToString())), options.Clock);
            // A connection the app shares keeps the app's own settings; docs/redis.md says which of them to set.
            return new RedisTokenBucketStore(Task.FromResult(shared), options.KeyPrefix, clientClock, ownsConnection: false, time);
        }

        Log.UsingInMemoryStore(logger, Interlocked.Exchange(ref s_inMemoryWarned, 1) == 0 ? LogLevel.Warning : LogLevel.Debug);
        return new InMemoryTokenBucketStore(time, options.InMemorySweepInterval);
    }

    private sealed class TokenBucketStartup(TokenBucketLimiter limiter, IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LegacyRouting.ThrowIfControllersAreLimited(services);
            // The pipelines are built by now, so every bucket an endpoint uses is known.
            return limiter.StartAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
