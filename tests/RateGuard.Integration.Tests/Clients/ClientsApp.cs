using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RateGuard;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Testing;
using RateGuard.TestSupport;

// A declared limit that reads the caller's plan, used by name.
[assembly: TokenBucketLimit(RateGuard.Integration.Tests.Clients.ClientsApp.Tiered, capacity: 2, rate: 0.001, Key = "header:X-User", Plan = "header:X-Plan")]

namespace RateGuard.Integration.Tests.Clients;

/// <summary>
/// Limits that depend on who is calling, in every form an app writes them: a plan read from a header, a route value or
/// a resolver, on a handler, a route group, an MVC action and a declared limit used by name, beside exempt and deny
/// lists. Every limit holds 2 tokens by default and refills at 0.001 a second, so no token comes back during a test;
/// plan gold holds 4 (3 on the group), plan staff is unlimited, key "probe" is exempt and key "mallory" denied.
/// </summary>
public sealed class ClientsApp : IAsyncDisposable
{
    public const string Tiered = "tiered";

    private ClientsApp(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public static Task<ClientsApp> StartAsync(RedisServer? redis, string keyPrefix, Dictionary<string, string?>? settings = null, Action<WebApplication>? map = null) =>
        StartOnAsync(redis?.Configuration, keyPrefix, settings, map);

    /// <summary>Starts the app over the Redis (standalone or cluster) that <paramref name="redis"/> configures, or in memory.</summary>
    public static async Task<ClientsApp> StartOnAsync(string? redis, string keyPrefix, Dictionary<string, string?>? settings = null, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TokenBuckets:KeyPrefix"] = keyPrefix,
            ["TokenBuckets:Redis"] = redis,
            // About who is calling, not failures: a loaded machine must not turn a decision into fail-open.
            ["TokenBuckets:Timeout"] = "00:00:05",
            // The group's plan, from configuration only.
            ["TokenBuckets:Buckets:g:Plans:gold:Capacity"] = "3",
            ["TokenBuckets:Buckets:mvc:Plans:gold:Capacity"] = "4",
            ["TokenBuckets:Buckets:tiered:Plans:gold:Capacity"] = "4",
            ["TokenBuckets:Buckets:tenants:Plans:gold:Capacity"] = "4",
        });
        builder.Configuration.AddInMemoryCollection((settings ?? []).ToDictionary(s => "TokenBuckets:" + s.Key, s => s.Value));
        builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
        builder.Services.UseTestClientAddresses();
        builder.Services.AddTokenBucketPlans("api", plans => plans
            .Plan("gold", capacity: 4, rate: 0.001)
            .Unlimited("staff")
            .Exempt("probe")
            .Deny("mallory"));
        builder.Services.AddTokenBucketPlans("resolved", plans => plans.Plan("gold", capacity: 4, rate: 0.001).Unlimited("staff"));
        builder.Services.AddControllers().ConfigureApplicationPartManager(ControllersOf.Only<ClientsApp>);

        var app = builder.Build();
        try
        {
            app.UseTokenBuckets();
            if (map is not null)
            {
                map(app);
            }
            else
            {
                app.MapGet("/api", [TokenBucket(capacity: 2, rate: 0.001, Key = "header:X-User", Bucket = "api", Plan = "header:X-Plan")] () => "api");
                app.MapGet("/resolved", [TokenBucket(capacity: 2, rate: 0.001, Key = "header:X-User", Bucket = "resolved", PlanResolver = typeof(UserDirectory))] () => "resolved");
                app.MapGet("/tenants/{tier}/orders", [TokenBucket(capacity: 2, rate: 0.001, Key = "header:X-User", Bucket = "tenants", Plan = "route:tier")] (string tier) => tier);
                // Two limits: the api bucket's plans and lists, and a bucket of 3 per user that treats everyone alike.
                app.MapGet("/both", [TokenBucket(capacity: 2, rate: 0.001, Key = "header:X-User", Bucket = "api", Plan = "header:X-Plan")][TokenBucket(capacity: 3, rate: 0.001, Key = "header:X-User", Bucket = "flat")] () => "both");
                var group = app.MapGroup("/g").RequireTokenBucket(capacity: 2, rate: 0.001, key: "header:X-User", plan: "header:X-Plan");
                group.MapGet("/a", () => "a");
                group.MapGet("/b", () => "b");
                app.MapGet("/named", [TokenBucket(Tiered)] () => "named");
                app.MapGet("/by-ip", [TokenBucket(capacity: 2, rate: 0.001, Key = "ip", Bucket = "by-ip")] () => "by-ip");
                app.MapControllers();
            }
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return new ClientsApp(app);
    }

    public async ValueTask DisposeAsync() => await App.DisposeAsync();
}

/// <summary>A directory of users: "gold-…" users are on plan gold, "staff-…" on staff, others on none.</summary>
public sealed class UserDirectory : ITokenBucketPlanResolver
{
    public string? ResolvePlan(HttpContext context, string key) =>
        key.StartsWith("gold-", StringComparison.Ordinal) ? "gold" : key.StartsWith("staff-", StringComparison.Ordinal) ? "staff" : null;
}

/// <summary>An MVC action whose limit reads the caller's plan.</summary>
[ApiController]
[Route("mvc")]
public sealed class PlansController : ControllerBase
{
    [HttpGet]
    [TokenBucket(capacity: 2, rate: 0.001, Key = "header:X-User", Bucket = "mvc", Plan = "header:X-Plan")]
    public string Get() => "mvc";
}
