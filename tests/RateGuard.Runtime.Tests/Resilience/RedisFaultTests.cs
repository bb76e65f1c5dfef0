using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using RateGuard.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Limiting.Remote;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Resilience;

/// <summary>Real faults on a real redis-server, against the limiter with its own connection, as an app has it.</summary>
[Collection(TimingCollection.Name)]
public sealed class RedisFaultTests(ITestOutputHelper output)
{
    private static void Own(TokenBucketOptions o, RedisServer server) => o.Redis = $"127.0.0.1:{server.Port}";

    [Fact]
    public async Task Connection_resets_under_load_admit_no_more_than_one_capacity_beyond_the_exact_bound()
    {
        using var server = RedisServer.Start();
        using var harness = new LimiterHarness(o => Own(o, server));
        await harness.ConnectedAsync();
        var resets = 0;
        harness.RedisStore.Connection!.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType == StackExchange.Redis.ConnectionType.Interactive)
            {
                Interlocked.Increment(ref resets);
            }
        };
        var policy = TestPolicies.Create(capacity: 50, rate: 50);
        await harness.Acquire(TestPolicies.Create(1, 1), "warm-up");
        using var stop = new CancellationTokenSource();

        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, 32).Select(_ => Task.Run(async () =>
        {
            var admitted = 0;
            while (!stop.IsCancellationRequested)
            {
                if ((await harness.Acquire(policy, "k")).IsAdmitted)
                {
                    admitted++;
                }
            }
            return admitted;
        })).ToArray();
        for (var i = 0; i < 6; i++)
        {
            await Task.Delay(400);
            server.Command("CLIENT", "KILL", "TYPE", "normal");
        }
        await Task.Delay(400);
        stop.Cancel();
        var admitted = (await Task.WhenAll(workers)).Sum();
        var bound = policy.Capacity + policy.Rate * clock.Elapsed.TotalSeconds;
        output.WriteLine($"{resets} resets seen; admitted {admitted} against an exact bound of {bound:F1}; failed open {harness.Count(policy.Name, RequestResults.FailedOpen)}");

        Assert.True(resets >= 3, $"Only {resets} connection resets were seen, so the test proved little.");
        Assert.True(admitted <= bound + policy.Capacity, $"{admitted} admitted against a bound of {bound:F1}.");
        harness.Breaker.RecordObservableInstruments();
        Assert.Equal((int)CircuitState.Closed, harness.Breaker.LastMeasurement?.Value);
    }

    [Fact]
    public async Task A_decision_that_its_request_stopped_waiting_for_takes_nothing_when_redis_runs_it()
    {
        using var server = RedisServer.Start();
        var budget = TimeSpan.FromMilliseconds(100);
        // The abandoned request is admitted unchecked: a share admitted locally would be owed to the bucket and charged
        // with the next request, which would blur what the abandoned call itself took.
        using var harness = new LimiterHarness(o => { Own(o, server); o.Timeout = budget; o.DenyCache = false; });
        await harness.ConnectedAsync();
        var policy = TestPolicies.Create(capacity: 2, rate: 0.001);
        // The deadline is put on the server's clock from what replies taught: no later than the quickest round trip
        // seen. One reply read late (the first, on a busy machine) would leave the deadline seconds late; a few dozen
        // bring it within the quickest of them.
        var warmUp = TestPolicies.Create(100, 100);
        for (var i = 0; i < 30; i++)
        {
            await harness.Acquire(warmUp, "warm-up");
        }

        // Paused for longer than any request waits, even on a busy process (up to LongestWait budgets): the call is
        // queued in Redis meanwhile.
        var pause = budget * ReplyWait.LongestWait + TimeSpan.FromSeconds(1);
        server.Command("CLIENT", "PAUSE", ((long)pause.TotalMilliseconds).ToString(), "ALL");
        var abandoned = await harness.Acquire(policy, "k", FailureMode.AdmitAll);
        // A command of its own is held until the pause ends. The next decision goes out on the limiter's connection
        // behind the abandoned call, so Redis runs that call first: no sleep has to guess when it did.
        server.Command("PING");
        var next = await harness.Acquire(policy, "k");
        output.WriteLine($"abandoned {abandoned.Source}, next {next.Source} {next.Decision}");
        foreach (var line in harness.Logs.GetSnapshot())
        {
            output.WriteLine($"{line.Level}: {line.Message} {line.Exception?.Message}");
        }

        Assert.Equal(DecisionSource.FailedOpen, abandoned.Source);
        Assert.Equal(DecisionSource.Store, next.Source);
        Assert.True(next.IsAdmitted);
        Assert.Equal(policy.Capacity - 1, next.Decision.Remaining); // the abandoned call took nothing
    }

    [Fact]
    public async Task A_client_rejected_for_long_is_admitted_once_redis_comes_back_without_its_data()
    {
        var port = RedisServer.FreePort();
        var server = RedisServer.Start(port);
        try
        {
            using var harness = new LimiterHarness(o => o.Redis = $"127.0.0.1:{port}");
            await harness.ConnectedAsync();
            var policy = TestPolicies.Create(capacity: 1, rate: 0.001); // a rejection waits 1,000 s
            var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Assert.True((await harness.Acquire(policy, "abuser")).IsAdmitted);
            Assert.Equal(DecisionSource.Store, (await harness.Acquire(policy, "abuser")).Source);
            Assert.Equal(DecisionSource.DenyCache, (await harness.Acquire(policy, "abuser")).Source);

            server.Dispose();
            server = RedisServer.Start(port); // back, and empty
            harness.RedisStore.ServerRestored += _ => restored.TrySetResult();
            await restored.Task.WaitAsync(TimeSpan.FromSeconds(10));
            var back = await harness.Acquire(policy, "abuser");

            Assert.Equal(DecisionSource.Store, back.Source);
            Assert.True(back.IsAdmitted);
        }
        finally
        {
            server.Dispose();
        }
    }

    [Fact]
    public async Task A_remembered_rejection_is_checked_with_redis_after_a_second_and_forgotten_when_redis_lost_it()
    {
        using var server = RedisServer.Start();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var harness = new LimiterHarness(o => Own(o, server), time);
        await harness.ConnectedAsync();
        var policy = TestPolicies.Create(capacity: 1, rate: 0.001);
        await harness.Acquire(policy, "abuser");
        await harness.Acquire(policy, "abuser");
        Assert.Equal(DecisionSource.DenyCache, (await harness.Acquire(policy, "abuser")).Source);

        server.Command("FLUSHALL"); // no reconnect: nothing tells the client
        time.Advance(DenyCache.RevalidateAfter - TimeSpan.FromMilliseconds(1));
        var trusted = await harness.Acquire(policy, "abuser");
        time.Advance(TimeSpan.FromMilliseconds(1));
        var rechecked = await harness.Acquire(policy, "abuser");

        Assert.Equal(DecisionSource.DenyCache, trusted.Source);
        Assert.Equal(DecisionSource.Store, rechecked.Source);
        Assert.True(rechecked.IsAdmitted);
    }

    [Fact]
    public async Task A_flood_of_failures_is_a_few_log_lines_not_one_per_request()
    {
        var server = RedisServer.Start();
        using var harness = new LimiterHarness(o => { Own(o, server); o.BreakDuration = TimeSpan.FromMilliseconds(50); o.DenyCache = false; });
        await harness.ConnectedAsync();
        var policy = TestPolicies.Create(capacity: 100, rate: 100);
        server.Dispose();

        for (var i = 0; i < 2000; i++)
        {
            await harness.Acquire(policy, $"client-{i % 50}");
        }

        var lines = harness.Logs.GetSnapshot();
        output.WriteLine(string.Join("\n", lines.Select(l => $"{l.Level}: {l.Message}")));
        Assert.Equal(2000, harness.Count(policy.Name, RequestResults.FallbackAcquired));
        Assert.InRange(lines.Count(l => l.Id.Name == "StoreFailed"), 1, 2);
        Assert.InRange(lines.Count, 1, 12);
    }
}
