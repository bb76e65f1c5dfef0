using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RateGuard;
using Microsoft.AspNetCore.Routing;
using RateGuard.Diagnostics;
using RateGuard.Http;
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
        return services.AddTokenBucketsCore();
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
        services.TryAddSingleton<IValidateOptions<TokenBucketOptions>, TokenBucketOptionsValidator>();
        services.AddOptions<TokenBucketOptions>().ValidateOnStart();
        services.TryAddSingleton<ITokenBucketStore>(CreateStore);
        services.TryAddSingleton(static services => new EndpointGateTable(services.GetRequiredService<EndpointDataSource>(), services));
        // Resolving the store at startup makes the store choice, and its warning, visible before the first request.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TokenBucketStartup>());
        return services;
    }

    private static ITokenBucketStore CreateStore(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<TokenBucketOptions>>().Value;
        var time = services.GetRequiredService<TimeProvider>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("RateGuard");
        var clientClock = options.Clock == TokenBucketClock.Client ? time : null;

        if (!string.IsNullOrWhiteSpace(options.Redis))
        {
            var configuration = ConfigurationOptions.Parse(options.Redis);
            // The app must start, and fail by its configured rules, while Redis is unreachable.
            configuration.AbortOnConnectFail = false;
            var connection = ConnectionMultiplexer.Connect(configuration);
            Log.UsingRedisStore(logger, string.Join(",", configuration.EndPoints), options.Clock);
            return new RedisTokenBucketStore(connection, options.KeyPrefix, clientClock, ownsConnection: true);
        }

        if (services.GetService<IConnectionMultiplexer>() is { } shared)
        {
            Log.UsingRedisStore(logger, string.Join(",", shared.GetEndPoints().Select(e => e.ToString())), options.Clock);
            return new RedisTokenBucketStore(shared, options.KeyPrefix, clientClock);
        }

        Log.UsingInMemoryStore(logger);
        return new InMemoryTokenBucketStore(time, options.InMemorySweepInterval);
    }

    private sealed class TokenBucketStartup(ITokenBucketStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GC.KeepAlive(store);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
