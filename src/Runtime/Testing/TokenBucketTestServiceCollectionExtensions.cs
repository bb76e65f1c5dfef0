using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RateGuard.Configuration;
using RateGuard.Stores;

namespace RateGuard.Testing;

/// <summary>
/// Changes an app's limits for an integration test: called on the app's services after the app registered its own,
/// as <c>WebApplicationFactory</c>'s <c>ConfigureTestServices</c> does, so the app's <c>Program</c> stays as it is.
/// </summary>
public static class TokenBucketTestServiceCollectionExtensions
{
    /// <summary>The header that names a test request's client address for <see cref="UseTestClientAddresses"/>.</summary>
    public const string ClientAddressHeader = "X-Test-IP";

    /// <summary>
    /// Keeps every bucket in this process's memory, whatever <c>TokenBuckets:Redis</c> or a registered
    /// <c>IConnectionMultiplexer</c> says: the test needs no Redis, and no test shares a bucket with another app.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="time">
    /// The clock the buckets refill by, such as a <c>FakeTimeProvider</c> the test advances. It becomes the app's
    /// <see cref="TimeProvider"/>, so the limiter's remembered rejections and the buckets move together; when
    /// <see langword="null"/>, the app's own clock stays.
    /// </param>
    public static IServiceCollection UseInMemoryTokenBucketStore(this IServiceCollection services, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (time is not null)
        {
            services.Replace(ServiceDescriptor.Singleton(time));
        }
        services.RemoveAll<ITokenBucketStore>();
        services.AddSingleton<ITokenBucketStore>(static services => new InMemoryTokenBucketStore(
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<CurrentOptions>().Value.InMemorySweepInterval));
        return services;
    }

    /// <summary>
    /// Gives each request that arrives without a remote address, as every request of ASP.NET Core's test server does,
    /// the address in its <see cref="ClientAddressHeader"/> header, or 127.0.0.1 without one. Without an address an
    /// <c>ip</c> key has no value and the request is refused (403); with the header a test plays several clients.
    /// </summary>
    public static IServiceCollection UseTestClientAddresses(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, TestClientAddresses>());
        return services;
    }

    private sealed class TestClientAddresses : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(static (context, next) =>
            {
                if (context.Connection.RemoteIpAddress is null)
                {
                    var named = context.Request.Headers[ClientAddressHeader].ToString();
                    context.Connection.RemoteIpAddress = named.Length == 0 ? IPAddress.Loopback
                        : IPAddress.TryParse(named, out var address) ? address
                        : throw new InvalidOperationException($"Header {ClientAddressHeader} is '{named}', which is not an IP address.");
                }
                return next(context);
            });
            next(app);
        };
    }

    /// <summary>
    /// Gives bucket <paramref name="bucket"/> this capacity and rate, as <c>TokenBuckets:Buckets:&lt;bucket&gt;</c> would,
    /// over what configuration says. The name is checked at startup like any override: one that names no bucket is
    /// logged as an error in Development (the environment tests run in by default), with the names there are.
    /// </summary>
    /// <param name="services">The app's services.</param>
    /// <param name="bucket">The bucket's name, as its <c>RateLimit-Policy</c> header shows it (<c>GET /items/{id}</c>).</param>
    /// <param name="capacity">The most tokens the bucket holds.</param>
    /// <param name="rate">The tokens it gets back each second.</param>
    public static IServiceCollection SetTokenBucketLimit(this IServiceCollection services, string bucket, int capacity, double rate)
    {
        ArgumentNullException.ThrowIfNull(services);
        TokenBucketPolicy.ThrowIfInvalidName(bucket, nameof(bucket));
        // The policy's own checks, so a bad value fails here rather than at startup.
        _ = new TokenBucketPolicy(bucket, capacity, rate);
        services.PostConfigure<TokenBucketOptions>(options =>
        {
            var failureMode = options.Buckets.TryGetValue(bucket, out var configured) ? configured.FailureMode : null;
            options.Buckets[bucket] = new TokenBucketOverride { Capacity = capacity, Rate = rate, FailureMode = failureMode };
        });
        return services;
    }

    /// <summary>
    /// Turns every limit off (<see cref="TokenBucketOptions.Enabled"/>): requests pass as if none were declared, with
    /// no store call and no rate-limit headers, for tests about something else.
    /// </summary>
    public static IServiceCollection DisableTokenBuckets(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.PostConfigure<TokenBucketOptions>(static options => options.Enabled = false);
        return services;
    }
}
