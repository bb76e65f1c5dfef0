using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Testing;

namespace RateGuard.Integration.Tests.Configuration;

/// <summary>An in-memory app whose settings, environment, services and endpoints a test chooses, with its logs kept.</summary>
public sealed class ConfiguredApp : IAsyncDisposable
{
    private ConfiguredApp(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
        Logs = app.Services.GetRequiredService<FakeLogCollector>();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public FakeLogCollector Logs { get; }

    /// <summary>The messages RateGuard logged at <paramref name="level"/>.</summary>
    public IReadOnlyList<string> Messages(LogLevel level) =>
        Logs.GetSnapshot().Where(r => r.Level == level && r.Category == "RateGuard").Select(r => r.Message).ToList();

    /// <summary>Changes settings and reloads the configuration, as a changed file or a new environment would.</summary>
    public void Reload(Dictionary<string, string?> settings)
    {
        foreach (var (key, value) in settings)
        {
            App.Configuration[key] = value;
        }
        try
        {
            ((IConfigurationRoot)App.Configuration).Reload();
        }
        catch (AggregateException)
        {
            // The options monitor throws to whoever reloads when the new settings fail validation; a file watcher
            // would see it on a background thread. What the app does about it is what the tests check.
        }
    }

    public static async Task<ConfiguredApp> StartAsync(
        Dictionary<string, string?> settings,
        Action<WebApplication> map,
        string environment = "Production",
        Action<IServiceCollection>? services = null,
        Action<IConfigurationBuilder>? configuration = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(settings);
        configuration?.Invoke(builder.Configuration);
        builder.Logging.ClearProviders().AddFakeLogging().SetMinimumLevel(LogLevel.Information);
        builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
        builder.Services.UseTestClientAddresses();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return new ConfiguredApp(app);
    }

    public async ValueTask DisposeAsync() => await App.DisposeAsync();
}
