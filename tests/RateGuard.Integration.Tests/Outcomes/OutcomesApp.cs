using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using RateGuard.Operations;
using RateGuard.Testing;

namespace RateGuard.Integration.Tests.Outcomes;

/// <summary>
/// Limits that settle after the response: counted by outcome (failures, a list of status codes, a rule of the app's),
/// charged after the fact by the handler, or watched in shadow mode. Every limit keys on <c>X-User</c> (the tenant's on
/// <c>X-Tenant</c>); a handler answers the status code its <c>status</c> query asks for, and charges what its
/// <c>charge</c> query says. Each handler counts the times it ran, so a test knows what was admitted.
/// </summary>
/// <remarks>
/// The slow limits refill at 0.001 a second, so no token comes back during a test; the metered one refills at 1 a
/// second, so a debt is measured in seconds.
/// </remarks>
public sealed class OutcomesApp : IAsyncDisposable
{
    public const string Failures = "failures";
    public const string Listed = "listed";
    public const string Teapots = "teapots";
    public const string Thrown = "thrown";
    public const string AllCalls = "all-calls";
    public const string FailedCalls = "failed-calls";
    public const string Metered = "metered";
    public const string Priced = "priced";
    public const string Held = "held";
    public const string Plain = "plain";
    public const string Watched = "watched";
    public const string Enforced = "enforced";
    public const string PerUser = "per-user";
    public const string PerTenant = "per-tenant";
    public const string Narrow = "narrow";
    public const string Wide = "wide";

    /// <summary>The refill of the slow limits, in tokens a second.</summary>
    public const double SlowRate = 0.001;

    public const string AdminPattern = "/admin/rate-limits";

    private OutcomesApp(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public ITokenBucketOperations Operations => App.Services.GetRequiredService<ITokenBucketOperations>();

    public HandlerCalls Calls => App.Services.GetRequiredService<HandlerCalls>();

    public FakeLogCollector Logs => App.Services.GetRequiredService<FakeLogCollector>();

    /// <summary>
    /// Starts the app over the Redis (standalone or cluster) that <paramref name="redis"/> configures, or in memory, in
    /// <paramref name="environment"/>, with <paramref name="settings"/> under <c>TokenBuckets:</c>.
    /// </summary>
    public static async Task<OutcomesApp> StartAsync(string? redis, string keyPrefix, Dictionary<string, string?>? settings = null, string environment = "Production")
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders().AddFakeLogging().AddFilter("RateGuard", LogLevel.Information);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TokenBuckets:KeyPrefix"] = keyPrefix,
            ["TokenBuckets:Redis"] = redis,
            // About what a request costs, not failures: a loaded machine must not turn a decision into fail-open, whose
            // share of a limit would be admitted besides the store's.
            ["TokenBuckets:Timeout"] = "00:00:10",
            ["TokenBuckets:FailureMode"] = "Closed",
        });
        builder.Configuration.AddInMemoryCollection((settings ?? []).ToDictionary(s => "TokenBuckets:" + s.Key, s => s.Value));
        builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
        builder.Services.UseTestClientAddresses();
        builder.Services.AddSingleton<HandlerCalls>();
        builder.Services.AddAuthorization(o => o.AddPolicy("operators", p => p.RequireAssertion(_ => true)));

        var app = builder.Build();
        try
        {
            app.UseAuthorization();
            app.UseTokenBuckets();
            Map(app);
            app.MapTokenBucketAdmin(AdminPattern, "operators");
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return new OutcomesApp(app);
    }

    private static void Map(WebApplication app)
    {
        const string user = "header:X-User";
        app.MapGet("/failures", [TokenBucket(capacity: 5, rate: SlowRate, Key = user, Bucket = Failures, Count = TokenBucketCount.Failures)] (int status, HandlerCalls calls) => calls.Answer(Failures, status));
        app.MapGet("/listed", [TokenBucket(capacity: 3, rate: SlowRate, Key = user, Bucket = Listed, Count = "401,403,500-599")] (int status, HandlerCalls calls) => calls.Answer(Listed, status));
        app.MapGet("/teapots", [TokenBucket(capacity: 2, rate: SlowRate, Key = user, Bucket = Teapots, CountRule = typeof(TeapotsOnly))] (int status, HandlerCalls calls) => calls.Answer(Teapots, status));
        app.MapGet("/throws", [TokenBucket(capacity: 2, rate: SlowRate, Key = user, Bucket = Thrown, Count = TokenBucketCount.Failures)] (HandlerCalls calls) => calls.Throw(Thrown));
        // Every call counts on one limit, only failures on the other.
        app.MapGet("/both", [TokenBucket(capacity: 10, rate: SlowRate, Key = user, Bucket = AllCalls)][TokenBucket(capacity: 3, rate: SlowRate, Key = user, Bucket = FailedCalls, Count = TokenBucketCount.Failures)] (int status, HandlerCalls calls) => calls.Answer("both", status));
        // One token up front, the actual cost once known.
        app.MapGet("/metered", [TokenBucket(capacity: 100, rate: 1, Key = user, Bucket = Metered, MaxCost = 1000)] (HttpContext context, double charge, HandlerCalls calls) => calls.Charge(Metered, context, charge, StatusCodes.Status200OK));
        // Ten tokens up front, which the actual cost may lower; the handler reports it in one call or several.
        app.MapGet("/priced", [TokenBucket(capacity: 100, rate: SlowRate, Key = user, Bucket = Priced, Cost = 10, MaxCost = 100)] (HttpContext context, double charge, int? times, HandlerCalls calls) => calls.Charge(Priced, context, charge, StatusCodes.Status200OK, times ?? 1));
        // Charged after the fact and counting failures only; the handler charges, then answers, once the test lets it.
        app.MapGet("/held", [TokenBucket(capacity: 100, rate: SlowRate, Key = user, Bucket = Held, Count = TokenBucketCount.Failures, MaxCost = 1000)] (HttpContext context, double charge, int status, HandlerCalls calls) => calls.ChargeAndHoldAsync(Held, context, charge, status));
        // Two limits whose charges are bounded differently: a report one refuses charges neither.
        app.MapGet("/bounds", [TokenBucket(capacity: 100, rate: SlowRate, Key = user, Bucket = Wide, MaxCost = 1000)][TokenBucket(capacity: 100, rate: SlowRate, Key = user, Bucket = Narrow, MaxCost = 100)] (HttpContext context, double charge, HandlerCalls calls) => calls.Charge(Wide, context, charge, StatusCodes.Status200OK));
        app.MapGet("/plain", [TokenBucket(capacity: 2, rate: SlowRate, Key = user, Bucket = Plain)] (HandlerCalls calls) => calls.Answer(Plain, StatusCodes.Status200OK));
        // A limit to watch beside one that enforces: the tests put the first in shadow mode.
        app.MapGet("/watched", [TokenBucket(capacity: 2, rate: SlowRate, Key = user, Bucket = Watched)][TokenBucket(capacity: 4, rate: SlowRate, Key = user, Bucket = Enforced)] (HandlerCalls calls) => calls.Answer(Watched, StatusCodes.Status200OK));
        // Two limits on two keys, so on a cluster two slots: one counts failures, the other is charged after the fact.
        app.MapGet("/split", [TokenBucket(capacity: 5, rate: SlowRate, Key = user, Bucket = PerUser, Count = TokenBucketCount.Failures)][TokenBucket(capacity: 100, rate: SlowRate, Key = "header:X-Tenant", Bucket = PerTenant, MaxCost = 1000)] (HttpContext context, double charge, int status, HandlerCalls calls) => calls.Charge(PerUser, context, charge, status));
    }

    /// <summary>The JSON of the admin endpoint <c>buckets</c>.</summary>
    public async Task<string> AdminBucketsJsonAsync()
    {
        using var response = await Client.GetAsync(AdminPattern + "/buckets");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return text;
    }

    public async ValueTask DisposeAsync() => await App.DisposeAsync();
}

/// <summary>How many times each handler ran: a request that reached its handler was admitted.</summary>
public sealed class HandlerCalls
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _charge = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int this[string handler] => _calls.GetValueOrDefault(handler);

    public IResult Answer(string handler, int status)
    {
        _calls.AddOrUpdate(handler, 1, static (_, n) => n + 1);
        return Results.StatusCode(status);
    }

    public IResult Charge(string handler, HttpContext context, double charge, int status, int times = 1)
    {
        _calls.AddOrUpdate(handler, 1, static (_, n) => n + 1);
        for (var i = 0; i < times; i++)
        {
            context.ChargeTokens(charge);
        }
        return Results.StatusCode(status);
    }

    /// <summary>Charges once <see cref="LetCharge"/> is called, then answers once <see cref="Release"/> is.</summary>
    public async Task<IResult> ChargeAndHoldAsync(string handler, HttpContext context, double charge, int status)
    {
        _calls.AddOrUpdate(handler, 1, static (_, n) => n + 1);
        await _charge.Task;
        context.ChargeTokens(charge);
        await _release.Task;
        return Results.StatusCode(status);
    }

    public IResult Throw(string handler)
    {
        _calls.AddOrUpdate(handler, 1, static (_, n) => n + 1);
        throw new InvalidOperationException("The handler failed.");
    }

    /// <summary>Lets every held handler charge.</summary>
    public void LetCharge() => _charge.TrySetResult();

    /// <summary>Lets every held handler answer.</summary>
    public void Release() => _release.TrySetResult();
}

/// <summary>A count rule of the app's: only 418 counts.</summary>
public sealed class TeapotsOnly : ITokenBucketCountRule
{
    public bool Counts(int statusCode) => statusCode == StatusCodes.Status418ImATeapot;
}
