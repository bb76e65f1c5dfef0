using System.Diagnostics;
using System.Runtime.CompilerServices;
using RateGuard.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Resilience;

[Collection(TimingCollection.Name)]
public sealed class LimiterResilienceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_script_flush_during_traffic_costs_no_error_and_no_decision()
    {
        using var redis = new RedisFixture();
        using var harness = new LimiterHarness(redis.Connection, o => o.DenyCache = false);
        var policy = TestPolicies.Create(capacity: 100_000, rate: 1000);
        using var stop = new CancellationTokenSource();

        var flusher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                redis.Server.Command("SCRIPT", "FLUSH");
                await Task.Delay(5);
            }
        });
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var sources = new List<DecisionSource>();
            for (var i = 0; i < 250; i++)
            {
                sources.Add((await harness.Acquire(policy, $"client-{worker}")).Source);
            }
            return sources;
        })));
        stop.Cancel();
        await flusher;

        var all = results.SelectMany(r => r).ToList();
        Assert.Equal(2000, all.Count);
        Assert.All(all, source => Assert.Equal(DecisionSource.Store, source));
        Assert.Equal(2000, harness.Count(policy.Name, DecisionResults.Admitted));
        Assert.Equal(0, harness.Count(policy.Name, DecisionResults.FailedOpen));
        Assert.True(redis.CommandCalls("eval") > 0, "The flushes never forced a reload, so the test proved nothing.");
    }

    [Fact]
    public async Task A_paused_redis_never_holds_a_decision_longer_than_the_budget()
    {
        using var redis = new RedisFixture();
        using var harness = new LimiterHarness(redis.Connection, o => o.Timeout = TimeSpan.FromMilliseconds(100));
        var policy = TestPolicies.Create(capacity: 100, rate: 10);
        await harness.Acquire(policy, "warm-up");

        redis.Server.Command("CLIENT", "PAUSE", "1500", "ALL");
        var latencies = new List<double>();
        var sources = new List<DecisionSource>();
        for (var i = 0; i < 20; i++)
        {
            var clock = Stopwatch.StartNew();
            sources.Add((await harness.Acquire(policy, "k")).Source);
            latencies.Add(clock.Elapsed.TotalMilliseconds);
        }
        output.WriteLine($"latencies while paused (ms): {string.Join(", ", latencies.Select(l => l.ToString("F1")))}");

        Assert.All(latencies, l => Assert.InRange(l, 0, 150));
        Assert.All(sources, s => Assert.Equal(DecisionSource.FailedOpen, s));
        Assert.Equal(20, harness.Count(policy.Name, DecisionResults.FailedOpen));
        // Three timeouts opened the circuit; the rest did not even call Redis.
        Assert.Equal(3, harness.StoreDurations.GetMeasurementSnapshot().Count(m => (string?)m.Tags["rateguard.outcome"] == "timeout"));
        harness.Breaker.RecordObservableInstruments();
        Assert.Equal((int)CircuitState.Open, harness.Breaker.LastMeasurement?.Value);
    }

    [Fact]
    public async Task Fail_closed_answers_with_a_retry_after_and_limiting_resumes_when_redis_returns()
    {
        var port = RedisServer.FreePort();
        var server = RedisServer.Start(port);
        var configuration = ConfigurationOptions.Parse($"127.0.0.1:{port}");
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ReconnectRetryPolicy = new ExponentialRetry(100, 1000);
        using var connection = await ConnectionMultiplexer.ConnectAsync(configuration);
        using var harness = new LimiterHarness(connection, o => { o.BreakDuration = TimeSpan.FromMilliseconds(250); o.DenyCache = false; });
        var policy = TestPolicies.Create(capacity: 2, rate: 0.01);
        try
        {
            Assert.Equal(DecisionSource.Store, (await harness.Acquire(policy, "k", FailureMode.Closed)).Source);

            server.Kill();
            var closed = await harness.Acquire(policy, "k", FailureMode.Closed);
            Assert.Equal(DecisionSource.FailedClosed, closed.Source);
            Assert.False(closed.IsAdmitted);
            Assert.True(closed.Decision.RetryAfter > TimeSpan.Zero);

            server.Dispose();
            server = RedisServer.Start(port);
            var back = Stopwatch.StartNew();
            LimiterResult result;
            do
            {
                await Task.Delay(20);
                result = await harness.Acquire(policy, "k", FailureMode.Closed);
            }
            while (result.Source != DecisionSource.Store && back.Elapsed < TimeSpan.FromSeconds(5));
            output.WriteLine($"limiting resumed {back.Elapsed.TotalMilliseconds:F0} ms after Redis restarted");

            Assert.Equal(DecisionSource.Store, result.Source);
            Assert.True(back.Elapsed < TimeSpan.FromSeconds(2), $"Limiting resumed only after {back.Elapsed}.");
            Assert.True(harness.Count(policy.Name, DecisionResults.FailedClosed) >= 1);
        }
        finally
        {
            server.Dispose();
        }
    }

    [Fact]
    public async Task The_local_fallback_enforces_the_limit_divided_by_the_instance_count_while_redis_is_down()
    {
        var server = RedisServer.Start();
        using var connection = await ConnectionMultiplexer.ConnectAsync($"{server.Configuration},abortConnect=false");
        using var harness = new LimiterHarness(connection, o => { o.LocalFallback = true; o.InstanceCount = 3; o.BreakDuration = TimeSpan.FromMinutes(1); });
        var policy = TestPolicies.Create(capacity: 9, rate: 0.01);
        server.Dispose();

        var outcomes = new List<bool>();
        for (var i = 0; i < 5; i++)
        {
            var result = await harness.Acquire(policy, "k");
            Assert.Equal(DecisionSource.LocalFallback, result.Source);
            outcomes.Add(result.IsAdmitted);
        }

        Assert.Equal([true, true, true, false, false], outcomes);
        Assert.Equal(3, harness.Count(policy.Name, DecisionResults.FallbackAdmitted));
        Assert.Equal(2, harness.Count(policy.Name, DecisionResults.FallbackRejected));
    }

    [Fact]
    public async Task A_request_whose_client_has_gone_takes_no_token_from_redis()
    {
        using var redis = new RedisFixture();
        using var harness = new LimiterHarness(redis.Connection);
        var policy = TestPolicies.Create(capacity: 1, rate: 0.01);
        using var gone = new CancellationTokenSource();
        gone.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await harness.Limiter.AcquireAsync(policy, FailureMode.Open, "k", gone.Token));
        var next = await harness.Acquire(policy, "k");

        Assert.Equal(DecisionSource.Store, next.Source);
        Assert.True(next.IsAdmitted);
    }

    [Fact]
    public async Task The_local_fallback_does_not_keep_policies_alive_that_the_app_has_let_go()
    {
        // The RateLimiter adapter builds policies per partition and per permit count; while Redis is down each one
        // gets a scaled twin, and that twin must not outlive the policy it was made for.
        var server = RedisServer.Start();
        using var connection = await ConnectionMultiplexer.ConnectAsync($"{server.Configuration},abortConnect=false");
        using var harness = new LimiterHarness(connection, o => { o.LocalFallback = true; o.InstanceCount = 3; o.BreakDuration = TimeSpan.FromMinutes(1); });
        server.Dispose();
        // Decide only once the client knows the server is gone, so no command is left pending (and holding the
        // policy) in its queue.
        var deadline = Stopwatch.StartNew();
        while (connection.IsConnected && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        var released = await DecideWithAPolicyNobodyKeeps(harness);
        for (var i = 0; i < 20 && released.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(50);
        }

        Assert.False(released.IsAlive);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> DecideWithAPolicyNobodyKeeps(LimiterHarness harness)
    {
        var policy = TestPolicies.Create(capacity: 9, rate: 0.01);
        var result = await harness.Acquire(policy, "k");
        Assert.Equal(DecisionSource.LocalFallback, result.Source);
        return new WeakReference(policy);
    }
}
