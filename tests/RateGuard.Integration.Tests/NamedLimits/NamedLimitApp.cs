using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RateGuard;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;

// The one declaration every use in these tests shares, the gateway's routes included. 0.001 tokens a second: no token
// comes back during a test, so the counts are exact.
[assembly: TokenBucketLimit(RateGuard.Integration.Tests.NamedLimits.NamedLimitApp.Writes, capacity: 5, rate: 0.001, Key = "header:X-User")]

namespace RateGuard.Integration.Tests.NamedLimits;

/// <summary>
/// One declared limit, "writes", used by name in every form an app writes it: an attribute on a minimal-API handler,
/// <c>RequireTokenBucket("writes")</c> on an endpoint and on a route group, metadata, and an attribute on an MVC action.
/// Several instances over one Redis share its one bucket.
/// </summary>
public sealed class NamedLimitApp : IAsyncDisposable
{
    public const string Writes = "writes";

    private NamedLimitApp(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    /// <summary>Every use of the limit: the method and path of one endpoint for each form.</summary>
    public static readonly (string Method, string Path)[] Uses =
    [
        ("POST", "/notes"),
        ("PUT", "/notes/1"),
        ("POST", "/drafts/"),
        ("POST", "/drafts/publish"),
        ("DELETE", "/notes/1"),
        ("POST", "/named/archive"),
    ];

    public static async Task<NamedLimitApp> StartAsync(RedisServer? redis, string keyPrefix, Dictionary<string, string?>? settings = null, string requiredLimit = Writes)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TokenBuckets:KeyPrefix"] = keyPrefix,
            ["TokenBuckets:Redis"] = redis?.Configuration,
            // About sharing, not failures: a loaded machine must not turn a decision into fail-open.
            ["TokenBuckets:Timeout"] = "00:00:05",
        });
        builder.Configuration.AddInMemoryCollection((settings ?? []).ToDictionary(s => "TokenBuckets:" + s.Key, s => s.Value));
        builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
        // This file's controller, and no other test's.
        builder.Services.AddControllers().ConfigureApplicationPartManager(ControllersOf.Only<NamedLimitApp>);

        var app = builder.Build();
        try
        {
            app.UseTokenBuckets();

            app.MapPost("/notes", [TokenBucket(Writes)] () => "created");
            app.MapPut("/notes/{id}", (string id) => id).RequireTokenBucket(requiredLimit);
            app.MapDelete("/notes/{id}", (string id) => id).WithMetadata(new TokenBucketAttribute(Writes));
            var drafts = app.MapGroup("/drafts").RequireTokenBucket(Writes);
            drafts.MapPost("/", () => "saved");
            drafts.MapPost("/publish", () => "published");
            app.MapGet("/health", () => "up");

            app.MapControllers();
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return new NamedLimitApp(app);
    }

    public async ValueTask DisposeAsync() => await App.DisposeAsync();
}
