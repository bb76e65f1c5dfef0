using System.Diagnostics;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Redis;

[Collection(RedisCollection.Name)]
public sealed class RedisConcurrencyTests(RedisFixture redis, ITestOutputHelper output)
{
    [Fact]
    public async Task Three_instances_with_64_callers_on_one_key_admit_within_one_percent_under_the_exact_bound()
    {
        const int capacity = 100;
        const double rate = 1000;
        const int callers = 64;
        var duration = TimeSpan.FromSeconds(3);
        var policy = TestPolicies.Create(capacity, rate);

        // Three multiplexers stand in for three app instances; each has its own connection and its own store.
        var connections = new[]
        {
            await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration),
            await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration),
            await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration),
        };
        try
        {
            var stores = connections.Select(c => new RedisTokenBucketStore(c)).ToArray();
            long admitted = 0, rejected = 0;
            using var start = new ManualResetEventSlim();
            var clock = new Stopwatch();

            var workers = Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
            {
                var store = stores[i % stores.Length];
                start.Wait();
                while (clock.Elapsed < duration)
                {
                    var decision = await store.AcquireAsync(policy, "hot");
                    Interlocked.Increment(ref decision.IsAdmitted ? ref admitted : ref rejected);
                }
            })).ToArray();

            clock.Start();
            start.Set();
            await Task.WhenAll(workers);
            clock.Stop();

            // The client saw at least as much time pass as the server did between its first and last decision,
            // so this bound can only be looser than the true one.
            var elapsed = clock.Elapsed.TotalSeconds;
            var bound = capacity + rate * elapsed;
            output.WriteLine($"admitted {admitted}, rejected {rejected}, elapsed {elapsed:F3} s, bound {bound:F1}, ratio {admitted / bound:P2}");

            Assert.True(rejected > 0, "The test must overload the bucket to mean anything.");
            Assert.True(admitted <= bound, $"Admitted {admitted} exceeds the bound {bound:F1}.");
            Assert.True(admitted >= 0.99 * bound, $"Admitted {admitted} is under 99% of the bound {bound:F1}.");
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
