using System.Collections.Concurrent;
using System.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Limiting.Remote;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Resilience;

/// <summary>
/// Faults on a real redis-server while batched decisions are in flight: a failed call fails every request in it alike,
/// with the failure mode, and Redis holds exactly what the decisions it answered say, never a part of a call.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class BatchedFaultTests(ITestOutputHelper output)
{
    private const int Clients = 100;
    private const int Workers = 48;
    private static readonly TimeSpan s_budget = TimeSpan.FromMilliseconds(100);

    // Five tokens a client and next to no refill: what Redis holds of a bucket is the count of the tokens taken from it.
    private static readonly TokenBucketPolicy s_policy = TestPolicies.Create(capacity: 5, rate: 0.001);

    [Fact]
    public async Task Script_flushes_under_batched_load_leave_redis_holding_exactly_what_was_admitted()
    {
        using var server = RedisServer.Start();
        using var harness = await StartAsync(server);
        // Every flush makes the next call answer NOSCRIPT and run again with the script's text: a call that ran twice,
        // or in part, would show as tokens taken that no admitted decision accounts for.
        var load = await RunAsync(harness, () => server, async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                await Task.Delay(100);
                server.Command("SCRIPT", "FLUSH");
            }
        });

        Assert.True(load.Calls < load.Results.Count / 2, $"{load.Calls} script calls for {load.Results.Count} decisions: the load was not batched.");
        Assert.All(load.Results, r => Assert.Equal(DecisionSource.Store, r.Result.Source));
        await AssertRedisHoldsExactlyTheAdmittedAsync(harness, load);
    }

    [Fact]
    public async Task A_pause_under_batched_load_gives_the_waiting_requests_the_failure_mode_and_their_calls_take_nothing()
    {
        using var server = RedisServer.Start();
        using var harness = await StartAsync(server);
        // Held for far longer than any request waits: each call queued in Redis meanwhile runs past its deadline.
        var load = await RunAsync(harness, () => server, async () =>
        {
            await Task.Delay(200);
            server.Command("CLIENT", "PAUSE", "1500", "ALL");
            await Task.Delay(1800);
        });

        var failed = load.Results.Where(r => r.Result.Source == DecisionSource.FailedClosed).ToList();
        output.WriteLine($"failed closed {failed.Count}, slowest of them {failed.Max(r => r.Elapsed).TotalMilliseconds:F0} ms");
        Assert.NotEmpty(failed);
        AssertWithinBudget(failed);
        await AssertRedisHoldsExactlyTheAdmittedAsync(harness, load);
    }

    [Fact]
    public async Task A_kill_under_batched_load_gives_every_request_of_a_failed_call_the_failure_mode_and_recovers()
    {
        var port = RedisServer.FreePort();
        var server = RedisServer.Start(port);
        try
        {
            using var harness = await StartAsync(server);
            var load = await RunAsync(harness, () => server, async () =>
            {
                await Task.Delay(300);
                server.Kill();
                await Task.Delay(500);
                server.Dispose();
                server = RedisServer.Start(port);
                await Task.Delay(2500);
            });

            var failed = load.Results.Where(r => r.Result.Source == DecisionSource.FailedClosed).ToList();
            var last = load.Results[^1];
            output.WriteLine($"failed closed {failed.Count}, slowest of them {failed.Max(r => r.Elapsed).TotalMilliseconds:F0} ms; last {last.Result.Source}");
            Assert.NotEmpty(failed);
            AssertWithinBudget(failed);
            // Nothing escaped as an exception (RunAsync would have thrown), and the store decides again once it is back.
            Assert.Contains(load.Results.Skip(load.Results.Count / 2), r => r.Result.Source == DecisionSource.Store);
            // The restarted server lost its data, so a client has at most a capacity from each server, never more.
            foreach (var client in load.Results.GroupBy(r => r.Client))
            {
                var admitted = client.Count(r => r.Result.Source == DecisionSource.Store && r.Result.IsAdmitted);
                Assert.True(admitted <= 2 * s_policy.Capacity, $"{client.Key}: {admitted} admitted by the store across one restart.");
            }
        }
        finally
        {
            server.Dispose();
        }
    }

    private static async Task<LimiterHarness> StartAsync(RedisServer server)
    {
        var harness = new LimiterHarness(o =>
        {
            o.Redis = $"127.0.0.1:{server.Port}";
            o.Timeout = s_budget;
            o.FailureMode = FailureMode.Closed;
            // Every decision goes to Redis, rejections too, so the load stays heavy and every answer is Redis's.
            o.DenyCache = false;
        });
        await harness.ConnectedAsync();
        // Teaches the limiter the server's clock, which its deadlines are set on.
        for (var i = 0; i < 30; i++)
        {
            await harness.Acquire(TestPolicies.Create(100, 100), "warm-up");
        }
        return harness;
    }

    // Workers draw on random clients' buckets while the fault runs, then stop.
    private async Task<Load> RunAsync(LimiterHarness harness, Func<RedisServer> server, Func<Task> fault)
    {
        var results = new ConcurrentQueue<Attempt>();
        using var stop = new CancellationTokenSource();
        var calls = ScriptCalls(server());
        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            while (!stop.IsCancellationRequested)
            {
                var client = "client-" + random.Next(Clients);
                var started = Stopwatch.GetTimestamp();
                var result = await harness.Limiter.AcquireAsync(s_policy, FailureMode.Closed, client, CancellationToken.None);
                results.Enqueue(new Attempt(client, result, Stopwatch.GetElapsedTime(started)));
                // An open circuit answers at once: without a yield, 48 loops that never wait would hold every thread
                // and starve the timers and replies of the requests that do wait.
                await Task.Yield();
            }
        })).ToArray();
        try
        {
            await fault();
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(workers);
        }
        var load = new Load([.. results], ScriptCalls(server()) - calls);
        output.WriteLine($"{load.Results.Count} decisions, {load.Calls} script calls; " + string.Join(", ", load.Results.GroupBy(r => r.Result.Source).Select(g => $"{g.Key} {g.Count()}")));
        return load;
    }

    private static long ScriptCalls(RedisServer server)
    {
        try
        {
            return server.ScriptCalls();
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
        {
            return 0; // not there (killed): the count is only asked of the tests that keep their server
        }
    }

    // A failed call's requests get the failure mode within their budget; a busy test process may wait up to
    // LongestWait budgets for a reply it has not had time to read, and a second more is slack for the machine.
    private static void AssertWithinBudget(List<Attempt> failed)
    {
        var longest = s_budget * ReplyWait.LongestWait + TimeSpan.FromSeconds(1);
        Assert.All(failed, r => Assert.True(r.Elapsed < longest, $"{r.Client} waited {r.Elapsed.TotalMilliseconds:F0} ms for the failure mode."));
    }

    // For each client, the tokens Redis says were taken equal the decisions that Redis admitted: nothing taken for a
    // request that got the failure mode, and no part of a call applied without the rest.
    private static async Task AssertRedisHoldsExactlyTheAdmittedAsync(LimiterHarness harness, Load load)
    {
        foreach (var client in load.Results.GroupBy(r => r.Client))
        {
            var admitted = client.Count(r => r.Result.Source == DecisionSource.Store && r.Result.IsAdmitted);
            var bucket = await harness.RedisStore.PeekAsync(s_policy, client.Key).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.True(s_policy.Capacity - bucket.Remaining == admitted, $"{client.Key}: Redis holds {s_policy.Capacity - bucket.Remaining} tokens taken, the store admitted {admitted}.");
        }
    }

    private sealed record Attempt(string Client, LimiterResult Result, TimeSpan Elapsed);

    private sealed record Load(List<Attempt> Results, long Calls);
}
