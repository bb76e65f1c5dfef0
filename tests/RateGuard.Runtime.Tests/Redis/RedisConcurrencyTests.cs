using System.Diagnostics;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using RateGuard.TestSupport;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Redis;

[Collection(RedisCollection.Name)]
public sealed class RedisConcurrencyTests(RedisFixture redis, ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Three_instances_with_64_callers_on_one_key_admit_within_one_percent_under_the_exact_bound(bool batched)
    {
        // A second of headroom (capacity / rate): a client stall shorter than that cannot let the bucket overflow
        // and waste refill, so what is measured is the store's exactness, not the test machine's scheduling.
        const int capacity = 200;
        const double rate = 200;
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
            // Warm each instance up on another key (script loaded, code paths jitted) before the measured window.
            foreach (var store in stores)
            {
                await store.AcquireAsync(policy, "warm-up");
            }
            long admitted = 0, rejected = 0;
            long firstIssued = long.MaxValue, lastAnswered = long.MinValue;
            // The server's time when it ran the first and the last decision, as each script reply gives it.
            long firstDecided = long.MaxValue, lastDecided = long.MinValue;
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency) + Stopwatch.Frequency;

            // Task.Run keeps the callers off xunit's synchronization context, which would squeeze all 64 loops onto its
            // few worker threads.
            var workers = Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
            {
                var store = stores[i % stores.Length];
                // A key of its own per case: the other case leaves its bucket empty.
                RedisKey[] keys = [store.GetKey(policy, batched ? "hot-batched" : "hot")];
                BucketCharge[] charges = [new(policy, policy.Cost, 0)];
                var decisions = new RateLimitDecision[1];
                await start.Task;
                var issued = Stopwatch.GetTimestamp();
                InterlockedMin(ref firstIssued, issued);
                var answered = issued;
                while (answered - Volatile.Read(ref firstIssued) < duration.TotalSeconds * Stopwatch.Frequency && answered < deadline)
                {
                    // The store's own call, as AcquireAsync makes it, read with the server's time of the decision.
                    var reply = TokenBucketScript.Read(await store.Send(keys, charges, deadline: 0, batched, TimeSpan.FromMilliseconds(100)).AnswerAsync(), decisions);
                    answered = Stopwatch.GetTimestamp();
                    Interlocked.Increment(ref decisions[0].IsAdmitted ? ref admitted : ref rejected);
                    InterlockedMin(ref firstDecided, reply.ServerNow);
                    InterlockedMax(ref lastDecided, reply.ServerNow);
                }
                InterlockedMax(ref lastAnswered, answered);
            })).ToArray();

            var callsBefore = redis.CommandCalls("evalsha") + redis.CommandCalls("eval");
            start.SetResult();
            await Task.WhenAll(workers);
            var calls = redis.CommandCalls("evalsha") + redis.CommandCalls("eval") - callsBefore;

            // From the server's first decision to its last, on the clock the script refills by: the exact span, where
            // the client's stopwatch would add however long a busy machine took to send the first call and read the last.
            var elapsed = (lastDecided - firstDecided) / 1_000_000.0;
            var bound = capacity + rate * elapsed;
            var clientElapsed = (double)(lastAnswered - firstIssued) / Stopwatch.Frequency;
            output.WriteLine($"admitted {admitted}, rejected {rejected}, elapsed {elapsed:F3} s on the server ({clientElapsed:F3} s on the client), bound {bound:F1}, ratio {admitted / bound:P2}, {calls} script calls for {admitted + rejected} decisions");

            Assert.True(rejected > 0, "The test must overload the bucket to mean anything.");
            Assert.True(admitted <= bound, $"Admitted {admitted} exceeds the bound {bound:F1}.");
            Assert.True(admitted >= 0.99 * bound, $"Admitted {admitted} is under 99% of the bound {bound:F1}.");
            if (batched)
            {
                // 64 callers keep every instance's lane busy: most decisions wait for a call in flight and share the next.
                Assert.True(calls * 2 < admitted + rejected, $"{calls} script calls for {admitted + rejected} decisions: batching did not happen.");
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static void InterlockedMin(ref long target, long value)
    {
        long current;
        while (value < (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
