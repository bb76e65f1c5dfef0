using System.Collections.Concurrent;
using System.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Runtime.Tests.Resilience;
using RateGuard.Testing;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Cluster;

/// <summary>A primary of a real cluster (three primaries, a replica each) killed under load.</summary>
[Collection(TimingCollection.Name)]
public sealed class ClusterFailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_one_primary_fails_only_its_own_buckets_until_its_replica_takes_over()
    {
        // On two cores the Redis client holds thread-pool threads while it reacts to the killed primary, and a process
        // with the default minimum then answers the other primaries' replies too late for their budget. The README's
        // guidance for small machines applies, as in any app that runs a cluster on one.
        using var threads = ThreadPoolMinimum.Raise(32);
        // Without full coverage required, the other primaries keep serving their slots while one range has no primary:
        // that is the cluster setting the README asks for.
        using var cluster = RedisCluster.Start(replicas: 1, "--cluster-node-timeout", "1500", "--cluster-require-full-coverage", "no");
        using var harness = new LimiterHarness(o =>
        {
            o.Redis = string.Join(",", cluster.Nodes.Select(n => $"127.0.0.1:{n.Port}"));
            o.Timeout = TimeSpan.FromMilliseconds(100);
        });
        await harness.ConnectedAsync();
        var policy = TestPolicies.Create(capacity: 20, rate: 20);
        var clients = OneClientPerPrimary(cluster, harness, policy);
        var victim = cluster.PrimaryOf(Slot(harness, policy, clients[0]));
        var replica = cluster.Nodes.Single(n => n.Command("INFO", "replication").Contains($"master_port:{victim.Port}"));
        foreach (var client in clients)
        {
            await harness.Acquire(policy, client); // learn each server's clock and route
        }

        // What Redis did not decide: the local fallback's share (failure mode Open), or the failure mode itself.
        var degraded = new ConcurrentBag<(string Client, TimeSpan At, bool Admitted)>();
        var admitted = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var workers = clients.SelectMany(client => Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var result = await harness.Acquire(policy, client);
                if (result.Source is DecisionSource.LocalFallback or DecisionSource.FailedOpen or DecisionSource.FailedClosed)
                {
                    degraded.Add((client, clock.Elapsed, result.IsAdmitted));
                }
                else if (result.IsAdmitted)
                {
                    admitted.AddOrUpdate(client, 1, (_, n) => n + 1);
                }
                // Requests arrive at a pace, as an app's do: a tight loop answered at once by an open circuit would
                // only measure how it starves the machine.
                await Task.Delay(1);
            }
        }))).ToArray();

        await Task.Delay(1000);
        var killedAt = clock.Elapsed;
        victim.Kill();
        var promoted = Stopwatch.StartNew();
        while (!replica.Command("INFO", "replication").Contains("role:master"))
        {
            Assert.True(promoted.Elapsed < TimeSpan.FromSeconds(30), $"The replica was not promoted within 30 s:\n{replica.Command("CLUSTER", "NODES")}\n{replica.Command("INFO", "replication")}");
            await Task.Delay(50);
        }
        var promotedAt = clock.Elapsed;
        // Limiting on the dead primary's slots resumes once the client has followed the promotion.
        var resumed = Stopwatch.StartNew();
        LimiterResult check;
        do
        {
            await Task.Delay(50);
            check = await harness.Acquire(policy, clients[0]);
        }
        while (check.Source is DecisionSource.LocalFallback or DecisionSource.FailedOpen && resumed.Elapsed < TimeSpan.FromSeconds(30));
        await Task.Delay(1000);
        stop.Cancel();
        await Task.WhenAll(workers);
        var bound = policy.Capacity + policy.Rate * clock.Elapsed.TotalSeconds;
        output.WriteLine($"killed at {killedAt.TotalSeconds:F1} s, promoted at {promotedAt.TotalSeconds:F1} s, limiting resumed {resumed.Elapsed.TotalSeconds:F1} s later; bound {bound:F1}");
        foreach (var line in harness.Logs.GetSnapshot())
        {
            output.WriteLine($"{line.Timestamp:HH:mm:ss.fff} {line.Level}: {line.Message} {line.Exception?.Message}");
        }
        foreach (var client in clients)
        {
            output.WriteLine($"{client}: admitted {admitted.GetValueOrDefault(client)}, failure mode {degraded.Count(d => d.Client == client)}");
        }

        Assert.True(check.Source is DecisionSource.Store or DecisionSource.DenyCache, $"Limiting did not resume: {check.Source}.");
        Assert.Contains(degraded, d => d.Client == clients[0]); // the dead primary's bucket did get the failure mode
        Assert.All(degraded, d => Assert.True(d.At >= killedAt, $"A failure mode at {d.At} before the kill at {killedAt}."));
        // The other primaries' buckets stay exact, counting whatever a stray slow reply let through, and their
        // circuits never open: only the dead primary's buckets follow the failure mode.
        foreach (var healthy in clients.Skip(1))
        {
            var total = admitted.GetValueOrDefault(healthy) + degraded.Count(d => d.Client == healthy && d.Admitted);
            Assert.True(total <= bound, $"{healthy}: {total} admitted against a bound of {bound:F1}.");
        }
        var opened = harness.Logs.GetSnapshot().Where(l => l.Id.Name == "CircuitOpened").Select(l => l.Message).ToList();
        Assert.All(opened, message => Assert.Contains($"127.0.0.1:{victim.Port} ", message));
    }

    // Raises the thread pool's minimum for one test and puts the previous one back after it.
    private sealed class ThreadPoolMinimum : IDisposable
    {
        private readonly int _workers;
        private readonly int _io;

        private ThreadPoolMinimum()
        {
            ThreadPool.GetMinThreads(out _workers, out _io);
        }

        public static ThreadPoolMinimum Raise(int threads)
        {
            var previous = new ThreadPoolMinimum();
            ThreadPool.SetMinThreads(Math.Max(previous._workers, threads), Math.Max(previous._io, threads));
            return previous;
        }

        public void Dispose() => ThreadPool.SetMinThreads(_workers, _io);
    }

    private static int Slot(LimiterHarness harness, TokenBucketPolicy policy, string client) =>
        harness.RedisStore.Connection!.HashSlot(harness.RedisStore.GetKey(policy, client));

    // Client values whose buckets live on three different primaries.
    private static string[] OneClientPerPrimary(RedisCluster cluster, LimiterHarness harness, TokenBucketPolicy policy)
    {
        var byPrimary = new Dictionary<int, string>();
        for (var i = 0; byPrimary.Count < 3; i++)
        {
            var client = $"client-{i}";
            byPrimary.TryAdd(cluster.PrimaryOf(Slot(harness, policy, client)).Port, client);
        }
        return [.. byPrimary.Values];
    }
}
