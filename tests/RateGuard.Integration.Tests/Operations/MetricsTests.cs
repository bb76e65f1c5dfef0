using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using RateGuard.Diagnostics;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// The request counter: ASP.NET Core's instrument shape (unit, policy and result tags, its result values) under
/// RateGuard's names, one count per bucket and request for every way a request can be decided.
/// </summary>
public sealed class MetricsTests : IClassFixture<RedisFixture>
{
    private readonly RedisFixture _redis;

    public MetricsTests(RedisFixture redis) => _redis = redis;

    private sealed class App : IAsyncDisposable
    {
        private readonly MetricCollector<long> _requests;

        public App(WebApplication app)
        {
            Web = app;
            Client = app.GetTestClient();
            _requests = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), TokenBucketMetrics.MeterName, TokenBucketMetrics.RequestsInstrument);
        }

        public WebApplication Web { get; }

        public HttpClient Client { get; }

        public Instrument Instrument => _requests.Instrument!;

        public IReadOnlyList<CollectedMeasurement<long>> Measurements => _requests.GetMeasurementSnapshot();

        // Bucket and result of every measurement, with its value, in order.
        public IEnumerable<string> Counted => Measurements.Select(m => $"{m.Tags[TokenBucketMetrics.PolicyTag]} {m.Tags[TokenBucketMetrics.ResultTag]} {m.Value}");

        public async Task<int> GetAsync(string path) => (int)(await Client.GetAsync(path)).StatusCode;

        public async ValueTask DisposeAsync()
        {
            _requests.Dispose();
            await Web.DisposeAsync();
        }
    }

    private static async Task<App> StartAsync(Action<TokenBucketOptions> configure, Action<WebApplication> map, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets(configure);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return new App(app);
    }

    [Fact]
    public async Task Admitted_rejected_remembered_and_keyless_requests_are_counted_once_each_under_the_request_instrument()
    {
        // The limiter's clock stands still, so the second rejection is the deny cache's on any machine.
        await using var app = await StartAsync(o => o.Redis = _redis.Server.Configuration, web =>
        {
            web.UseTokenBuckets();
            web.MapGet("/one", [TokenBucket(capacity: 1, rate: 0.001, Key = "global", Bucket = "metrics-one")] () => "ok");
            web.MapGet("/keyed", [TokenBucket(capacity: 5, rate: 1, Key = "header:X-Key", Bucket = "metrics-keyed")] () => "ok");
        }, services => services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UtcNow)));

        var codes = new[] { await app.GetAsync("/one"), await app.GetAsync("/one"), await app.GetAsync("/one"), await app.GetAsync("/keyed") };

        Assert.Equal([200, 429, 429, 403], codes);
        Assert.Equal(["metrics-one acquired 1", "metrics-one endpoint_limiter 1", "metrics-one deny_cache 1", "metrics-keyed missing_key 1"], app.Counted);
        Assert.Equal(("rateguard.rate_limiting.requests", "{request}", "RateGuard"), (app.Instrument.Name, app.Instrument.Unit, app.Instrument.Meter.Name));
        Assert.All(app.Measurements, m => Assert.Equal(["rateguard.rate_limiting.policy", "rateguard.rate_limiting.result"], m.Tags.Keys.Order()));
    }

    [Fact]
    public async Task Failure_modes_and_the_local_fallback_are_counted_under_their_own_results()
    {
        var closedPort = RedisServer.FreePort();
        await using var app = await StartAsync(o =>
        {
            o.Redis = $"127.0.0.1:{closedPort},abortConnect=false,connectTimeout=200";
            o.Buckets["metrics-closed"] = new TokenBucketOverride { FailureMode = FailureMode.Closed };
            o.Buckets["metrics-admit-all"] = new TokenBucketOverride { FailureMode = FailureMode.AdmitAll };
        }, web =>
        {
            web.UseTokenBuckets();
            web.MapGet("/open", [TokenBucket(capacity: 5, rate: 1, Key = "global", Bucket = "metrics-open")] () => "ok");
            web.MapGet("/closed", [TokenBucket(capacity: 5, rate: 1, Key = "global", Bucket = "metrics-closed")] () => "ok");
            web.MapGet("/admit-all", [TokenBucket(capacity: 5, rate: 1, Key = "global", Bucket = "metrics-admit-all")] () => "ok");
        });
        await using var fallback = await StartAsync(o =>
        {
            o.Redis = $"127.0.0.1:{closedPort},abortConnect=false,connectTimeout=200";
            o.InstanceCount = 1;
        }, web =>
        {
            web.UseTokenBuckets();
            web.MapGet("/fallback", [TokenBucket(capacity: 1, rate: 0.001, Key = "global", Bucket = "metrics-fallback")] () => "ok");
        });

        var codes = new[] { await app.GetAsync("/open"), await app.GetAsync("/closed"), await app.GetAsync("/admit-all"), await fallback.GetAsync("/fallback"), await fallback.GetAsync("/fallback") };

        Assert.Equal([200, 503, 200, 200, 429], codes);
        Assert.Equal(["metrics-open fallback_acquired 1", "metrics-closed failed_closed 1", "metrics-admit-all failed_open 1"], app.Counted);
        Assert.Equal(["metrics-fallback fallback_acquired 1", "metrics-fallback fallback_rejected 1"], fallback.Counted);
    }

    [Fact]
    public async Task A_client_that_goes_away_while_its_bucket_is_decided_is_counted_and_nothing_is_thrown()
    {
        using var redis = RedisServer.Start();
        Exception? escaped = null;
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await StartAsync(o =>
        {
            o.Redis = redis.Configuration;
            o.Timeout = TimeSpan.FromSeconds(30); // the decision waits for the paused server until the client leaves
        }, web =>
        {
            web.Use(async (context, next) =>
            {
                try
                {
                    reached.TrySetResult();
                    await next(context);
                }
                catch (Exception e)
                {
                    escaped = e;
                    throw;
                }
            });
            web.UseTokenBuckets();
            web.MapGet("/slow", [TokenBucket(capacity: 5, rate: 1, Key = "global", Bucket = "metrics-slow")] () => "ok");
        });
        Assert.Equal(200, await app.GetAsync("/slow")); // connected, script loaded
        redis.Pause();
        try
        {
            using var leaving = new CancellationTokenSource();
            var request = app.Client.GetAsync("/slow", leaving.Token);
            await reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await Task.Delay(100);
            await leaving.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);

            await WaitUntil(() => app.Counted.Contains("metrics-slow request_canceled 1"), "the canceled request is counted");
        }
        finally
        {
            redis.Resume();
        }

        Assert.Null(escaped);
        Assert.Equal(["metrics-slow acquired 1", "metrics-slow request_canceled 1"], app.Counted);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Through_aspnetcore_s_rate_limiter_each_request_is_counted_once(bool redis)
    {
        await using var app = await StartAsync(o => o.Redis = redis ? _redis.Server.Configuration : null, web =>
        {
            web.UseRateLimiter();
            web.MapGet("/", () => "ok").RequireRateLimiting("adapter");
        }, services => services.AddRateLimiter(o => o.AddPolicy("adapter", context =>
            TokenBucketRateLimitPartition.Get(context, "adapter-client-" + redis, new TokenBucketPolicy("adapter", capacity: 1, rate: 0.001)))));

        var codes = new[] { await app.GetAsync("/"), await app.GetAsync("/"), await app.GetAsync("/"), await app.GetAsync("/") };

        // ASP.NET Core tries AttemptAcquire, then AcquireAsync once refused: one request, one count.
        Assert.Equal([200, 503, 503, 503], codes);
        var counted = app.Measurements.GroupBy(m => (string)m.Tags[TokenBucketMetrics.ResultTag]!).ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.Equal(1, counted[RequestResults.Acquired]);
        Assert.Equal(3, counted.GetValueOrDefault(RequestResults.EndpointLimiter) + counted.GetValueOrDefault(RequestResults.DenyCache));
        if (!redis)
        {
            Assert.Equal(3, counted[RequestResults.EndpointLimiter]); // the in-memory store has no deny cache
        }
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), $"Not within 20 s: {what}.");
            await Task.Delay(20);
        }
    }
}
