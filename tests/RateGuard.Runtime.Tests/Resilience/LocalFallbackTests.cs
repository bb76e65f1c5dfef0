using System.Collections.Concurrent;
using System.Diagnostics;
using RateGuard.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Resilience;

/// <summary>The local fallback against a real redis-server stopped with SIGSTOP, as a hung host is.</summary>
[Collection(TimingCollection.Name)]
public sealed class LocalFallbackTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_fallback_starts_from_what_redis_last_said_and_redis_is_charged_for_what_it_admitted()
    {
        using var server = RedisServer.Start();
        using var harness = new LimiterHarness(o =>
        {
            o.Redis = $"127.0.0.1:{server.Port}";
            o.InstanceCount = 1;
            o.Timeout = TimeSpan.FromMilliseconds(100);
            o.BreakDuration = TimeSpan.FromMilliseconds(200);
            o.DenyCache = false;
        });
        await harness.ConnectedAsync();
        var policy = TestPolicies.Create(capacity: 10, rate: 0.001);
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(DecisionSource.Store, (await harness.Acquire(policy, "k")).Source);
        }

        server.Pause();
        var local = new List<bool>();
        for (var i = 0; i < 4; i++)
        {
            var result = await harness.Acquire(policy, "k");
            Assert.Equal(DecisionSource.LocalFallback, result.Source);
            local.Add(result.IsAdmitted);
        }
        server.Resume();
        LimiterResult back;
        var waited = Stopwatch.StartNew();
        do
        {
            await Task.Delay(50);
            back = await harness.Acquire(policy, "k");
        }
        while (back.Source != DecisionSource.Store && waited.Elapsed < TimeSpan.FromSeconds(10));

        Assert.Equal([true, true, false, false], local); // the 2 tokens Redis had left, not a full bucket of 10
        Assert.Equal(DecisionSource.Store, back.Source);
        Assert.False(back.IsAdmitted); // Redis was charged the 2 admitted locally: nothing is left
        Assert.Equal(0, back.Decision.Remaining);
    }

    [Fact]
    public async Task Instances_learn_how_many_share_the_limits_and_an_instance_that_leaves_is_not_counted()
    {
        using var server = RedisServer.Start();
        void Configure(TokenBucketOptions o)
        {
            o.Redis = $"127.0.0.1:{server.Port}";
        }
        using var first = new LimiterHarness(Configure);
        var second = new LimiterHarness(Configure);
        await first.ConnectedAsync();
        await second.ConnectedAsync();

        await Eventually.Until(() => first.Operations.GetInstanceCount() == 2 && second.Operations.GetInstanceCount() == 2, "both see two instances");
        second.Dispose();
        await Eventually.Until(() => first.Operations.GetInstanceCount() == 1, "the one left sees itself alone");
    }

    [Fact]
    public async Task Three_instances_falling_back_while_redis_is_stopped_stay_within_a_tenth_of_the_limit_and_burst_at_no_switch()
    {
        using var server = RedisServer.Start();
        var instances = Enumerable.Range(0, 3).Select(_ => new LimiterHarness(o =>
        {
            o.Redis = $"127.0.0.1:{server.Port}";
            o.Timeout = TimeSpan.FromMilliseconds(100);
            o.BreakDuration = TimeSpan.FromMilliseconds(500);
        })).ToList();
        try
        {
            foreach (var instance in instances)
            {
                await instance.ConnectedAsync();
            }
            await Eventually.Until(() => instances.All(i => i.Operations.GetInstanceCount() == 3), "every instance knows there are three");
            var policy = new TokenBucketPolicy(TestPolicies.Create(1, 1).Name, 30, 10);
            var admissions = new ConcurrentBag<TimeSpan>();
            using var stop = new CancellationTokenSource();
            var clock = Stopwatch.StartNew();
            var load = instances.SelectMany(instance => Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    if ((await instance.Acquire(policy, "everyone")).IsAdmitted)
                    {
                        admissions.Add(clock.Elapsed);
                    }
                    await Task.Delay(2);
                }
            }))).ToArray();

            await Task.Delay(2000);
            var stoppedAt = clock.Elapsed;
            server.Pause();
            await Task.Delay(5000);
            var continuedAt = clock.Elapsed;
            server.Resume();
            await Task.Delay(3000);
            stop.Cancel();
            await Task.WhenAll(load);

            var bound = policy.Capacity + policy.Rate * clock.Elapsed.TotalSeconds;
            var window = TimeSpan.FromMilliseconds(200);
            int AdmittedBetween(TimeSpan from) => admissions.Count(t => t >= from && t < from + window);
            var local = instances.Sum(i => i.Count(policy.Name, RequestResults.FallbackAcquired));
            output.WriteLine($"admitted {admissions.Count} (locally {local}) against a bound of {bound:F1}; in the 200 ms after the stop {AdmittedBetween(stoppedAt)}, after the continue {AdmittedBetween(continuedAt)}");

            Assert.True(local > 0, "Nothing was decided locally, so the test proved little.");
            Assert.True(admissions.Count <= 1.1 * bound, $"{admissions.Count} admitted against a bound of {bound:F1}.");
            Assert.True(AdmittedBetween(stoppedAt) <= policy.Capacity, $"{AdmittedBetween(stoppedAt)} admitted in the 200 ms after Redis stopped.");
            Assert.True(AdmittedBetween(continuedAt) <= policy.Capacity, $"{AdmittedBetween(continuedAt)} admitted in the 200 ms after Redis came back.");
        }
        finally
        {
            foreach (var instance in instances)
            {
                instance.Dispose();
            }
        }
    }
}
