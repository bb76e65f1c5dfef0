using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Operations;
using Yarp.ReverseProxy.Configuration;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>
/// A YARP reverse proxy on Kestrel, on loopback, wired as an app wires RateGuard.Yarp: routes from an in-memory
/// provider the test can update, one cluster whose only destination is <see cref="CountingBackend"/>, and its logs kept.
/// </summary>
internal sealed class ProxyHost : IAsyncDisposable
{
    public const string ClusterId = "backend";

    private readonly WebApplication _app;
    private readonly IReadOnlyList<ClusterConfig> _clusters;

    private ProxyHost(WebApplication app, int port, IReadOnlyList<ClusterConfig> clusters)
    {
        _app = app;
        _clusters = clusters;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        Logs = app.Services.GetRequiredService<FakeLogCollector>();
    }

    public HttpClient Client { get; }

    public FakeLogCollector Logs { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>A route to the backend cluster matching <paramref name="path"/>, with <paramref name="metadata"/>.</summary>
    public static RouteConfig Route(string id, string path, params (string Key, string Value)[] metadata) => new()
    {
        RouteId = id,
        ClusterId = ClusterId,
        Match = new RouteMatch { Path = path },
        Metadata = metadata.Length == 0 ? null : metadata.ToDictionary(m => m.Key, m => m.Value, StringComparer.OrdinalIgnoreCase),
    };

    /// <summary>
    /// Starts a proxy with <paramref name="routes"/> in front of <paramref name="backend"/>. <paramref name="settings"/>
    /// go into configuration under <c>TokenBuckets:</c>. <paramref name="environment"/> names the host environment (by
    /// default, that of the test process).
    /// </summary>
    public static Task<ProxyHost> StartAsync(
        CountingBackend backend,
        IReadOnlyList<RouteConfig> routes,
        Dictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? middleware = null,
        bool checkRoutes = true,
        Action<IReverseProxyBuilder>? reverseProxy = null,
        string? environment = null) => PortRange.Gateway.StartAsync(async port =>
    {
        var clusters = new[]
        {
            new ClusterConfig
            {
                ClusterId = ClusterId,
                Destinations = new Dictionary<string, DestinationConfig> { ["only"] = new() { Address = backend.Address } },
            },
        };
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders().AddFakeLogging().SetMinimumLevel(LogLevel.Information);
        builder.Configuration.AddInMemoryCollection((settings ?? []).ToDictionary(s => "TokenBuckets:" + s.Key, s => s.Value));
        var proxy = builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);
        if (checkRoutes)
        {
            proxy.AddTokenBuckets();
        }
        reverseProxy?.Invoke(proxy);
        builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
        services?.Invoke(builder.Services);
        var app = builder.Build();
        try
        {
            app.UseTokenBuckets();
            middleware?.Invoke(app);
            app.MapReverseProxy().WithTokenBuckets();
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return new ProxyHost(app, port, clusters);
    });

    /// <summary>Replaces the routes, as a configuration reload does; the cluster stays.</summary>
    public void Update(IReadOnlyList<RouteConfig> routes) => Services.GetRequiredService<InMemoryConfigProvider>().Update(routes, _clusters);

    /// <summary>The status code and the named response headers of one GET.</summary>
    public async Task<Response> GetAsync(string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }
        using var response = await Client.SendAsync(request);
        var all = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
        return new Response((int)response.StatusCode, all);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>
    /// The state of client <paramref name="key"/>'s bucket <paramref name="bucket"/> once <paramref name="settled"/> holds.
    /// A refund or a charge made after a response goes to the store without being waited for, so a test that counts
    /// tokens waits for it before its next request.
    /// </summary>
    public async Task<TokenBucketState> BucketAsync(string bucket, string key, Func<TokenBucketState, bool> settled)
    {
        var operations = Services.GetRequiredService<ITokenBucketOperations>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var state = await operations.InspectAsync(bucket, key);
            if (settled(state))
            {
                return state;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited 30 s for bucket '{bucket}' of client '{key}' to settle; it holds {state.Tokens} tokens and is full in {state.TimeToFull}.");
            }
            await Task.Delay(10);
        }
    }

    /// <summary>One response: its status and its headers.</summary>
    public sealed record Response(int Status, IReadOnlyDictionary<string, string> Headers)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
    }

    /// <summary>An exception and every exception inside it, aggregates included: YARP wraps a filter's exception twice.</summary>
    public static IEnumerable<Exception> Chain(Exception? exception)
    {
        if (exception is null)
        {
            yield break;
        }
        yield return exception;
        var inner = exception is AggregateException aggregate ? aggregate.InnerExceptions : (IEnumerable<Exception>)[exception.InnerException!];
        foreach (var child in inner)
        {
            foreach (var e in Chain(child))
            {
                yield return e;
            }
        }
    }
}
