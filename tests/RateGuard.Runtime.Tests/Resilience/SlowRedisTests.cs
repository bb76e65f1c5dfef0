using System.Collections.Concurrent;
using System.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Resilience;

/// <summary>Redis slowed past the decision budget for part of a run, by a proxy that delays every byte both ways.</summary>
[Collection(TimingCollection.Name)]
public sealed class SlowRedisTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(150)]
    [InlineData(1000)]
    public async Task With_the_default_settings_a_slow_redis_keeps_the_limit_and_an_instance_that_reaches_redis_directly_is_untouched(int delayMs)
    {
        // Two instances share Redis: one reaches it through the proxy, the other directly. Both run the defaults, with the
        // product's own budget of 100 ms: failure mode Open, whose share of each limit they learn from their heartbeats.
        using var server = RedisServer.Start();
        using var proxy = new LatencyProxy(server.Port);
        using var slowed = new LimiterHarness(o =>
        {
            o.Redis = $"127.0.0.1:{proxy.Port}";
            o.Timeout = TimeSpan.FromMilliseconds(100);
        });
        // What the other instance must not see is the slowed path's fault; a budget of its own far above 100 ms keeps a
        // busy machine's scheduling delays, which are no fault of Redis, from being taken for one.
        using var direct = new LimiterHarness(o =>
        {
            o.Redis = $"127.0.0.1:{server.Port}";
            o.Timeout = TimeSpan.FromSeconds(5);
        });
        await slowed.ConnectedAsync();
        await direct.ConnectedAsync();
        await Eventually.Until(() => slowed.Operations.GetInstanceCount() == 2 && direct.Operations.GetInstanceCount() == 2, "both instances count two");
        // The minimal sample's global bucket under load on the slowed instance, and a tenant's probed ten times a second
        // on the other.
        var global = new TokenBucketPolicy("GET /global", capacity: 20, rate: 0.2);
        var probe = new TokenBucketPolicy("GET /tenants/{tenant}/orders", capacity: 4, rate: 1);

        var loadResults = new ConcurrentQueue<LimiterResult>();
        var probes = new ConcurrentQueue<LimiterResult>();
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var load = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                loadResults.Enqueue(await slowed.Acquire(global, "everyone"));
                await Task.Delay(1);
            }
        })).ToArray();
        var prober = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                probes.Enqueue(await direct.Acquire(probe, "c"));
                await Task.Delay(100);
            }
        });

        await Task.Delay(3000);
        proxy.Delay = TimeSpan.FromMilliseconds(delayMs);
        await Task.Delay(5000);
        proxy.Delay = TimeSpan.Zero;
        await Task.Delay(4000);
        stop.Cancel();
        await Task.WhenAll([.. load, prober]);
        var elapsed = clock.Elapsed;

        var admitted = loadResults.Count(r => r.IsAdmitted);
        var bound = global.Capacity + global.Rate * elapsed.TotalSeconds;
        var probed = probes.Count(r => r.IsAdmitted);
        var probeBound = probe.Capacity + probe.Rate * elapsed.TotalSeconds;
        output.WriteLine($"{delayMs} ms each way for 5 s of {elapsed.TotalSeconds:F1} s. Global: {loadResults.Count} requests, {admitted} admitted against a bound of {bound:F1}, sources {Sources(loadResults)}. Probe: {probes.Count} requests, {probed} admitted against {probeBound:F1}, sources {Sources(probes)}.");
        foreach (var line in slowed.Logs.GetSnapshot())
        {
            output.WriteLine($"{line.Timestamp:HH:mm:ss.fff} {line.Level}: {line.Message}");
        }

        // The slowed instance kept the limit: what Redis could not decide in time, its share of the bucket decided.
        Assert.Contains(loadResults, r => r.Source == DecisionSource.LocalFallback);
        Assert.True(admitted <= bound, $"The slowed instance admitted {admitted} against a bound of {bound:F1}.");
        // The instance that reaches Redis directly saw nothing of it.
        Assert.All(probes, r => Assert.True(r.Source is DecisionSource.Store or DecisionSource.DenyCache, $"A probe was decided by {r.Source}."));
        Assert.True(probed <= probeBound, $"The probe's bucket admitted {probed} against a bound of {probeBound:F1}.");
        Assert.DoesNotContain(direct.Logs.GetSnapshot(), l => l.Id.Name is "StoreFailed" or "CircuitOpened");
    }

    private static string Sources(IEnumerable<LimiterResult> results) =>
        string.Join(", ", results.GroupBy(r => r.Source).Select(g => $"{g.Key} {g.Count()}"));
}
