using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

using RateGuard.Integration.Tests.Infrastructure;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>
/// Routes and their limits read from configuration with <c>LoadFromConfig</c>, the usual wiring, so that a changed
/// configuration file reloads a route and its limits together.
/// </summary>
public sealed class GatewayConfigurationFileTests
{
    private const string Capacity = "ReverseProxy:Routes:api:Metadata:TokenBucket.Capacity";

    [Fact]
    public async Task Limits_in_a_routes_configuration_section_apply_and_follow_a_configuration_reload_and_a_bad_reload_keeps_them()
    {
        await using var backend = await CountingBackend.StartAsync();
        await using var app = await PortRange.Gateway.StartAsync(async port =>
        {
            var builder = WebApplication.CreateBuilder();
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            builder.Logging.ClearProviders().AddFakeLogging().SetMinimumLevel(LogLevel.Information);
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ReverseProxy:Routes:api:ClusterId"] = "backend",
                ["ReverseProxy:Routes:api:Match:Path"] = "/api/{**rest}",
                [Capacity] = "2",
                ["ReverseProxy:Routes:api:Metadata:TokenBucket.Rate"] = "0.01",
                ["ReverseProxy:Routes:api:Metadata:TokenBucket.Key"] = "header:X-Client",
                ["ReverseProxy:Clusters:backend:Destinations:only:Address"] = backend.Address,
            });
            builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddTokenBuckets();
            builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
            var app = builder.Build();
            app.UseTokenBuckets();
            app.MapReverseProxy().WithTokenBuckets();
            try
            {
                await app.StartAsync();
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }
            return app;
        });
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };

        Assert.Equal([200, 200, 429], await StatusesAsync(client, "before", 3));

        Reload(app, "3");
        await EventuallyAsync(() => Task.FromResult(ProxyCapacity(app) == 3 ? true : (bool?)null), "the proxy endpoint to carry capacity 3");
        Assert.Equal([200, 200, 200, 429], await StatusesAsync(client, "after", 4));

        Reload(app, "0");
        var logs = app.Services.GetRequiredService<FakeLogCollector>();
        await EventuallyAsync(() => Task.FromResult(logs.GetSnapshot().Any(r => r.Level == LogLevel.Error && r.Category == "Yarp.ReverseProxy.Management.ProxyConfigManager") ? true : (bool?)null), "YARP to log the refused reload");
        Assert.Equal(3, ProxyCapacity(app));
        Assert.Equal([200, 200, 200, 429], await StatusesAsync(client, "after-refused", 4));
    }

    // The capacity on the proxy endpoint routing currently matches for route 'api', read without spending a token.
    private static int? ProxyCapacity(WebApplication app) =>
        app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Where(e => e.DisplayName == "api")
            .Select(e => e.Metadata.GetMetadata<TokenBucketAttribute>()?.Capacity)
            .SingleOrDefault();

    private static void Reload(WebApplication app, string capacity)
    {
        app.Configuration[Capacity] = capacity;
        ((IConfigurationRoot)app.Configuration).Reload();
    }

    private static async Task<List<int>> StatusesAsync(HttpClient client, string key, int count)
    {
        var statuses = new List<int>();
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/a");
            request.Headers.Add("X-Client", key);
            using var response = await client.SendAsync(request);
            statuses.Add((int)response.StatusCode);
        }
        return statuses;
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, string what) where T : struct
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited 30 s for {what}.");
            }
            await Task.Delay(20);
        }
    }
}
