using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Time.Testing;
using RateGuard.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.TestSupport;
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
        foreach (var line in harness.Logs.GetSnapshot())
        {
            output.WriteLine($"{line.Level}: {line.Message} {line.Exception?.Message}");
        }
        Assert.Equal(2000, all.Count);
        Assert.All(all, source => Assert.Equal(DecisionSource.Store, source));
        Assert.Equal(2000, harness.Count(policy.Name, RequestResults.Acquired));
        Assert.Equal(0, harness.Count(policy.Name, RequestResults.FailedOpen));
        Assert.True(redis.CommandCalls("eval") > 0, "The flushes never forced a reload, so the test proved nothing.");
    }

    [Fact]
    public async Task A_paused_redis_holds_a_decision_for_the_budget_and_no_longer_then_the_circuit_answers_at_once()
    {
        // On the limiter's own clock, so what is checked is when the budget timer ends the wait, not how quickly a busy
        // machine gets round to the test. The wall-clock latency of the same case is measured by bench/faults.py (pause).
        var budget = TimeSpan.FromMilliseconds(100);
        using var server = RedisServer.Start();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var harness = new LimiterHarness(o => { o.Redis = $"127.0.0.1:{server.Port}"; o.Timeout = budget; }, time);
        await harness.ConnectedAsync();
        var policy = TestPolicies.Create(capacity: 100, rate: 10);
        Assert.Equal(DecisionSource.Store, (await harness.Acquire(policy, "warm-up")).Source);
        // Redis last answered a second ago: it is not working through a queue, so nothing earns it more than the budget.
        time.Advance(TimeSpan.FromSeconds(1));

        server.Pause();
        try
        {
            var sources = new List<DecisionSource>();
            for (var i = 0; i < 3; i++)
            {
                var decision = harness.Acquire(policy, "k").AsTask();
                time.Advance(budget - TimeSpan.FromMilliseconds(1));
                Assert.False(decision.IsCompleted, $"Decision {i} did not wait for Redis while its budget lasted.");
                time.Advance(TimeSpan.FromMilliseconds(1));
                // The budget timer has fired; its continuation runs on the thread pool, whenever the machine lets it.
                sources.Add((await decision.WaitAsync(TimeSpan.FromSeconds(60))).Source);
            }
            // The circuit is open: the rest are answered without a call to Redis and without the clock moving at all.
            for (var i = 0; i < 17; i++)
            {
                var decision = harness.Acquire(policy, "k");
                Assert.True(decision.IsCompleted, $"Decision {3 + i} waited although the circuit was open.");
                sources.Add((await decision).Source);
            }

            // Failure mode Open: this instance's share of the bucket, all of it for one instance.
            Assert.All(sources, s => Assert.Equal(DecisionSource.LocalFallback, s));
            Assert.Equal(20, harness.Count(policy.Name, RequestResults.FallbackAcquired));
            // Three timeouts opened the circuit, each ended by the budget to the tick of the limiter's clock.
            var timeouts = harness.StoreDurations.GetMeasurementSnapshot().Where(m => (string?)m.Tags["rateguard.rate_limiting.store.outcome"] == "timeout").Select(m => m.Value).ToList();
            Assert.Equal([budget.TotalSeconds, budget.TotalSeconds, budget.TotalSeconds], timeouts);
            harness.Breaker.RecordObservableInstruments();
            Assert.Equal((int)CircuitState.Open, harness.Breaker.LastMeasurement?.Value);
        }
        finally
        {
            server.Resume();
        }
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
            // How soon depends on the client's reconnect and the machine: the limit only stops a test that never recovers.
            while (result.Source != DecisionSource.Store && back.Elapsed < TimeSpan.FromSeconds(30));
            output.WriteLine($"limiting resumed {back.Elapsed.TotalMilliseconds:F0} ms after Redis restarted");

            Assert.Equal(DecisionSource.Store, result.Source);
            Assert.True(harness.Count(policy.Name, RequestResults.FailedClosed) >= 1);
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
        using var harness = new LimiterHarness(connection, o => { o.InstanceCount = 3; o.BreakDuration = TimeSpan.FromMinutes(1); });
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
        Assert.Equal(3, harness.Count(policy.Name, RequestResults.FallbackAcquired));
        Assert.Equal(2, harness.Count(policy.Name, RequestResults.FallbackRejected));
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
        using var harness = new LimiterHarness(connection, o => { o.InstanceCount = 3; o.BreakDuration = TimeSpan.FromMinutes(1); });
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
