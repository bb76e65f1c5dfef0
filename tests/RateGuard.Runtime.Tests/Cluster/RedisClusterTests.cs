using System.Diagnostics;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using RateGuard.TestSupport;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Cluster;

public sealed class RedisClusterTests(RedisCluster cluster, ITestOutputHelper output) : IClassFixture<RedisCluster>
{
    private readonly RedisTokenBucketStore _store = new(cluster.Connection);

    [Fact]
    public async Task Decisions_over_a_cluster_are_the_token_bucket_decisions()
    {
        var policy = TestPolicies.Create(capacity: 5, rate: 0.01);

        foreach (var client in new[] { "alpha", "bravo", "charlie", "delta" })
        {
            var outcomes = new List<(bool, long)>();
            for (var i = 0; i < 6; i++)
            {
                var decision = await _store.AcquireAsync(policy, client);
                outcomes.Add((decision.IsAdmitted, decision.Remaining));
            }
            Assert.Equal([(true, 4L), (true, 3L), (true, 2L), (true, 1L), (true, 0L), (false, 0L)], outcomes);
        }
    }

    [Fact]
    public async Task Buckets_spread_over_the_nodes()
    {
        var policy = TestPolicies.Create(capacity: 5, rate: 1);
        for (var i = 0; i < 100; i++)
        {
            await _store.AcquireAsync(policy, $"client-{i}");
        }

        var perNode = cluster.Nodes.Select(n => n.Command("DBSIZE")).Select(r => long.Parse(r.TrimStart(':').Trim())).ToList();
        output.WriteLine($"keys per node: {string.Join(", ", perNode)}");

        Assert.True(perNode.Count(n => n > 0) >= 2, $"Keys landed on {perNode.Count(n => n > 0)} node(s): {string.Join(", ", perNode)}.");
    }

    [Fact]
    public async Task Moving_slots_during_traffic_loses_no_decision()
    {
        var policy = TestPolicies.Create(capacity: 20, rate: 50);
        var keys = Enumerable.Range(0, 40).Select(i => $"user-{i}").ToArray();
        var failures = new List<Exception>();
        long decisions = 0;
        var admitted = new long[keys.Length];
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();

        var traffic = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            var i = worker;
            while (!stop.IsCancellationRequested)
            {
                var k = i++ % keys.Length;
                try
                {
                    var decision = await _store.AcquireAsync(policy, keys[k]);
                    Interlocked.Increment(ref decisions);
                    if (decision.IsAdmitted)
                    {
                        Interlocked.Increment(ref admitted[k]);
                    }
                }
                catch (Exception e)
                {
                    lock (failures)
                    {
                        failures.Add(e);
                    }
                }
            }
        })).ToArray();

        // Move a quarter of the slot space from the first node to the second while the traffic runs.
        await Task.Delay(300);
        var from = cluster.NodeId(cluster.Nodes[0]);
        var to = cluster.NodeId(cluster.Nodes[1]);
        var reshard = await Task.Run(() => RedisCluster.RedisCli(["--cluster", "reshard", $"127.0.0.1:{cluster.Nodes[0].Port}",
            "--cluster-from", from, "--cluster-to", to, "--cluster-slots", "4096", "--cluster-yes"]));
        await Task.Delay(300);
        stop.Cancel();
        await Task.WhenAll(traffic);
        var elapsed = clock.Elapsed.TotalSeconds;

        output.WriteLine($"{decisions} decisions in {elapsed:F2} s during a 4096-slot reshard, {failures.Count} failures");
        Assert.True(failures.Count == 0, $"{failures.Count} decisions failed, first: {failures.FirstOrDefault()}");
        Assert.Contains("Moving slot", reshard);
        Assert.True(decisions > 500, "Too little traffic ran during the reshard.");
        // No bucket admitted more than it could: migration moved state, it did not reset it.
        var bound = policy.Capacity + policy.Rate * elapsed;
        Assert.All(admitted, a => Assert.True(a <= bound, $"A bucket admitted {a}, over its bound {bound:F1}."));
    }

    [Fact]
    public async Task A_request_whose_buckets_span_slots_gives_back_what_one_slot_admitted_when_another_rejected()
    {
        using var harness = new Resilience.LimiterHarness(o => { o.Redis = cluster.Configuration; o.DenyCache = false; });
        await harness.ConnectedAsync();
        var global = TestPolicies.Create(capacity: 1000, rate: 0.001);
        var perClient = TestPolicies.Create(capacity: 2, rate: 0.001);
        var globalSlot = harness.RedisStore.SlotOf(harness.RedisStore.GetKey(global, "everyone"));
        var clients = Enumerable.Range(0, 200).Select(i => $"client-{i}")
            .Where(c => harness.RedisStore.SlotOf(harness.RedisStore.GetKey(perClient, c)) != globalSlot).Take(16).ToArray();

        var admitted = await Task.WhenAll(clients.Select(client => Task.Run(async () =>
        {
            var count = 0;
            for (var i = 0; i < 10; i++)
            {
                count += await Limiting.MultiBucketTests.Decide(harness, [(global, "everyone"), (perClient, client)]) ? 1 : 0;
            }
            return count;
        })));

        // Each client was admitted twice; the 8 rejections each were admitted by the global bucket's slot first and
        // given back, so the global bucket ends holding what the 32 admissions left, never less than that.
        Assert.All(admitted, n => Assert.Equal(perClient.Capacity, n));
        var expected = global.Capacity - clients.Length * perClient.Capacity;
        var left = 0L;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            var reading = new RateLimitDecision[1];
            TokenBucketScript.Read(await harness.RedisStore.DecideAsync([harness.RedisStore.GetKey(global, "everyone")], [new BucketCharge(global, 0, 0)], 0), reading);
            left = reading[0].Remaining;
            Assert.True(left <= expected, $"The global bucket holds {left}, more than the {expected} the admissions left.");
        }
        while (left < expected && DateTime.UtcNow < deadline && await Task.Delay(20).ContinueWith(_ => true));
        output.WriteLine($"{clients.Length} clients, {admitted.Sum()} admitted; the global bucket holds {left} of {global.Capacity}");
        Assert.Equal(expected, left);
    }

    [Fact]
    public async Task Batched_decisions_go_per_slot_and_lose_none_while_slots_move()
    {
        using var harness = new Resilience.LimiterHarness(o => { o.Redis = cluster.Configuration; o.DenyCache = false; });
        await harness.ConnectedAsync();
        var policy = TestPolicies.Create(capacity: 20, rate: 50);
        // Clients over many slots on every node: a call that mixed slots would fail with CROSSSLOT.
        var keys = Enumerable.Range(0, 64).Select(i => $"batched-{i}").ToArray();
        var slots = keys.Select(k => harness.RedisStore.SlotOf(harness.RedisStore.GetKey(policy, k))).Distinct().Count();
        var admitted = new long[keys.Length];
        var sources = new System.Collections.Concurrent.ConcurrentDictionary<RateGuard.Limiting.DecisionSource, long>();
        var calls = ScriptCalls();
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();

        var traffic = Enumerable.Range(0, 48).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (!stop.IsCancellationRequested)
            {
                var k = random.Next(keys.Length);
                var result = await harness.Acquire(policy, keys[k]);
                sources.AddOrUpdate(result.Source, 1, (_, n) => n + 1);
                if (result.Source == RateGuard.Limiting.DecisionSource.Store && result.IsAdmitted)
                {
                    Interlocked.Increment(ref admitted[k]);
                }
            }
        })).ToArray();

        // Move slots from the second node to the third while the traffic runs.
        await Task.Delay(300);
        var reshard = await Task.Run(() => RedisCluster.RedisCli(["--cluster", "reshard", $"127.0.0.1:{cluster.Nodes[1].Port}",
            "--cluster-from", cluster.NodeId(cluster.Nodes[1]), "--cluster-to", cluster.NodeId(cluster.Nodes[2]), "--cluster-slots", "4096", "--cluster-yes"]));
        await Task.Delay(300);
        stop.Cancel();
        await Task.WhenAll(traffic);
        var elapsed = clock.Elapsed.TotalSeconds;
        calls = ScriptCalls() - calls;

        var decisions = sources.Values.Sum();
        output.WriteLine($"{decisions} decisions over {slots} slots in {elapsed:F2} s during a 4096-slot reshard, {calls} script calls; "
            + string.Join(", ", sources.Select(p => $"{p.Key} {p.Value}")));
        Assert.Contains("Moving slot", reshard);
        // Every request was decided by Redis: no call failed for mixing slots, and none for the moving ones.
        Assert.Equal(decisions, sources.GetValueOrDefault(RateGuard.Limiting.DecisionSource.Store));
        Assert.True(calls < decisions, $"{calls} script calls for {decisions} decisions: nothing was batched.");
        var bound = policy.Capacity + policy.Rate * elapsed;
        Assert.All(admitted, a => Assert.True(a <= bound, $"A bucket admitted {a}, over its bound {bound:F1}."));
    }

    private long ScriptCalls() => cluster.Nodes.Sum(node => node.ScriptCalls());
}
