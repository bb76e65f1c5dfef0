using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using RateGuard.TestSupport;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Redis;

/// <summary>
/// The script's batched form against an exact integer model of the contract written at the top of
/// <c>Lua/token-bucket.lua</c>: requests in order, each one's debts first whatever the decision, then its costs all or
/// none, the same key twice costing twice, a late request touching nothing; refunds never above full, charges after the
/// fact into debt, shadow buckets that let the request go on without them. Every value of every reply, and every bucket
/// left behind, must be the model's.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class ScriptContractTests(RedisFixture redis, ITestOutputHelper output)
{
    [Fact]
    public async Task A_rejected_request_that_names_one_bucket_twice_and_owes_it_keeps_only_its_debt()
    {
        // The reproduction as an operator would type it: one request, bucket A twice (interval 1 µs, capacity 5), the
        // first costing 2, the second 10 with a debt of 1. The second can never be admitted, so the request is rejected.
        var reply = await EvalAsync(["A", "A"], ["rg2", "1000000", "1", "0", "2", "1", "5", "2", "0", "1", "5", "10", "1"]);

        // Status 0, and A as it is left: 4 tokens, full again in 1 µs, the debt alone. Its first appearance would have
        // fitted (retry 0); its second never can (-1).
        Assert.Equal([1000000L, 0, 4, 0, 1, 4, -1, 1], reply);
    }

    [Fact]
    public async Task The_same_request_on_slow_buckets_leaves_the_debt_alone_in_redis()
    {
        // The reproduction with one token a second, so the key lives long enough to be read back: a debt of one token
        // is a bucket full again one second from now.
        var key = "contract:" + Guid.NewGuid().ToString("N");
        var reply = await EvalAsync([key, key], ["rg2", "1000000", "1", "0", "2", "1000000", "5", "2", "0", "1000000", "5", "10", "1"]);

        Assert.Equal([1000000L, 0, 4, 0, 1_000_000, 4, -1, 1_000_000], reply);
        Assert.Equal("2000000", (string?)await redis.Database.StringGetAsync(key));
    }

    [Fact]
    public async Task Random_batched_requests_with_repeated_keys_debts_overdrafts_shadow_buckets_deadlines_and_zero_costs_match_the_exact_model()
    {
        var random = new Random(20261207);
        var prefix = "model:" + Guid.NewGuid().ToString("N") + ":";
        var keys = Enumerable.Range(0, 8).Select(i => prefix + i).ToArray();
        // Each key's usual shape; a request now and then draws on a key with another, which the contract allows.
        var shapes = keys.Select(_ => Shape(random)).ToArray();
        var model = new ContractModel();
        // The client clock starts now and moves on by seconds between calls, far faster than the test runs: a key that
        // Redis expires (on its own clock) is one the model already holds full, so the two never disagree about it.
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        var requests = 0;
        var calls = 0;
        var seen = new Outcomes();
        while (requests < 20_000)
        {
            now += random.Next(1_000_000, 30_000_000);
            var call = Enumerable.Range(0, random.Next(1, 25)).Select(_ => Request(random, keys, shapes, now)).ToArray();
            var expected = model.Decide(now, call);
            var actual = await EvalAsync(call.SelectMany(r => r.Buckets.Select(b => b.Key)).ToArray(), Arguments(now, call));

            Assert.True(expected.SequenceEqual(actual), $"call {calls} at {now}:\n{Describe(call)}\nexpected {string.Join(' ', expected)}\nactual   {string.Join(' ', actual)}");
            seen.Add(call, expected);
            requests += call.Length;
            calls++;
        }

        // Every bucket left behind is the model's: the same time to full, or both full.
        foreach (var key in keys)
        {
            var stored = (long?)await redis.Database.StringGetAsync(key);
            Assert.Equal(Math.Max(model.Stored(key), now), Math.Max(stored ?? 0, now));
        }
        output.WriteLine($"{requests} requests in {calls} calls: {seen}");
        // The sequence must have exercised what the contract is about.
        Assert.True(seen.Admitted > 1000 && seen.Rejected > 1000 && seen.Late > 100, seen.ToString());
        Assert.True(seen.RejectedWithDebt > 100 && seen.RepeatedKey > 1000 && seen.ZeroCost > 1000 && seen.RepeatedKeyRejectedWithDebt > 20, seen.ToString());
        Assert.True(seen.Refunds > 500 && seen.InDebt > 200 && seen.ShadowPassed > 200 && seen.ShadowRejectedWithOthers > 50, seen.ToString());
    }

    private async Task<long[]> EvalAsync(string[] keys, RedisValue[] args)
    {
        var result = await TokenBucketScript.Script.EvaluateAsync(redis.Database, keys.Select(k => (RedisKey)k).ToArray(), args);
        return ((RedisResult[])result!).Select(r => (long)r).ToArray();
    }

    private static RedisValue[] Arguments(long now, ModelRequest[] call)
    {
        var args = new List<RedisValue> { "rg2", now, call.Length };
        foreach (var request in call)
        {
            args.Add(request.Deadline);
            // A request whose debts may overdraw gives its count negated, a shadow bucket its cost.
            args.Add(request.Overdraw ? -request.Buckets.Length : request.Buckets.Length);
            foreach (var bucket in request.Buckets)
            {
                args.AddRange([bucket.Interval, bucket.Capacity, bucket.Shadow ? -bucket.Cost : bucket.Cost, bucket.Debt]);
            }
        }
        return [.. args];
    }

    // One token every 1 to 20 s, 1 to 10 tokens: buckets that spend seconds to minutes part-full while the clock moves by
    // seconds.
    private static (long Interval, int Capacity) Shape(Random random) => (random.Next(1, 21) * 1_000_000L + random.Next(0, 1000), random.Next(1, 11));

    private static ModelRequest Request(Random random, string[] keys, (long Interval, int Capacity)[] shapes, long now)
    {
        var count = random.Next(1, 5);
        var buckets = new ModelBucket[count];
        // One request in twelve is a charge after the fact, whose debts may take a bucket into debt.
        var overdraw = random.Next(12) == 0;
        for (var b = 0; b < count; b++)
        {
            // Half the time a key the request already names, so that a key twice is common.
            var k = b > 0 && random.Next(2) == 0 ? Array.IndexOf(keys, buckets[random.Next(b)].Key) : random.Next(keys.Length);
            var (interval, capacity) = random.Next(10) == 0 ? Shape(random) : shapes[k];
            var cost = random.Next(8) == 0 ? 0 : random.Next(1, capacity + 2); // now and then free, or above the capacity
            var debt = overdraw ? random.Next(-2, capacity + 2) : random.Next(5) == 0 ? random.Next(-3, 6) : 0;
            buckets[b] = new ModelBucket(keys[k], interval, capacity, cost, debt, Shadow: cost > 0 && random.Next(6) == 0);
        }
        // Mostly none; now and then one just passed (late), one that is now (not late), or one to come.
        var deadline = random.Next(12) switch
        {
            0 => now - random.Next(1, 1000),
            1 => now,
            2 => now + random.Next(1, 1000),
            _ => 0,
        };
        return new ModelRequest(deadline, buckets, overdraw);
    }

    private static string Describe(ModelRequest[] call) =>
        string.Join("\n", call.Select(r => $"  deadline {r.Deadline}{(r.Overdraw ? " overdraw" : "")}: " + string.Join(", ", r.Buckets.Select(b => $"{b.Key[^1]} i{b.Interval} c{b.Capacity} cost {b.Cost}{(b.Shadow ? " shadow" : "")} debt {b.Debt}"))));

    private sealed record ModelBucket(string Key, long Interval, int Capacity, int Cost, int Debt, bool Shadow = false);

    private sealed record ModelRequest(long Deadline, ModelBucket[] Buckets, bool Overdraw = false);

    /// <summary>The contract, in integers, the way it is written: one long per key, the time its bucket is full again.</summary>
    private sealed class ContractModel
    {
        // The furthest a bucket in debt may be full again: 100 years of refill.
        private const long LongestDebt = 3_155_760_000_000_000;

        private readonly Dictionary<string, long> _fullAt = [];

        public long Stored(string key) => _fullAt.GetValueOrDefault(key);

        public long[] Decide(long now, ModelRequest[] call)
        {
            var reply = new List<long> { now };
            foreach (var request in call)
            {
                var buckets = request.Buckets;
                if (request.Deadline > 0 && now > request.Deadline)
                {
                    reply.Add(-1);
                    reply.AddRange(Enumerable.Repeat(0L, 3 * buckets.Length));
                    continue;
                }
                // Debts first, whatever the decision: a charge never past an empty bucket, or 100 years below it when
                // the request may overdraw (nor back, if it is further); tokens given back never before a full one.
                foreach (var b in buckets)
                {
                    if (b.Debt == 0)
                    {
                        continue;
                    }
                    var full = At(b.Key, now);
                    var window = b.Capacity * b.Interval;
                    var owed = full + b.Debt * b.Interval;
                    var furthest = request.Overdraw ? LongestDebt : window;
                    owed = b.Debt > 0 && owed > now + furthest ? Math.Max(full, now + furthest) : Math.Max(owed, now);
                    if (owed != full)
                    {
                        _fullAt[b.Key] = owed;
                    }
                }
                // Then the costs: each against its bucket after the debts and the request's earlier costs on its key.
                var from = new long[buckets.Length];
                var next = new long[buckets.Length];
                var retry = new long[buckets.Length];
                var admitted = true;
                for (var i = 0; i < buckets.Length; i++)
                {
                    var b = buckets[i];
                    var earlier = i - 1;
                    while (earlier >= 0 && buckets[earlier].Key != b.Key)
                    {
                        earlier--;
                    }
                    from[i] = earlier >= 0 ? next[earlier] : At(b.Key, now);
                    next[i] = from[i] + b.Cost * b.Interval;
                    var excess = next[i] - now - b.Capacity * b.Interval;
                    retry[i] = b.Cost > b.Capacity ? -1 : Math.Max(0, excess);
                    if (retry[i] != 0)
                    {
                        // A shadow bucket that does not hold its cost lets the request go on, and takes nothing.
                        if (b.Shadow)
                        {
                            next[i] = from[i];
                        }
                        else
                        {
                            admitted = false;
                        }
                    }
                }
                reply.Add(admitted ? 1 : 0);
                for (var i = 0; i < buckets.Length; i++)
                {
                    var b = buckets[i];
                    if (admitted && next[i] != from[i])
                    {
                        _fullAt[b.Key] = next[i];
                    }
                    var at = admitted ? next[i] : At(b.Key, now);
                    reply.AddRange([Tokens(at, now, b), retry[i], at - now]);
                }
            }
            return [.. reply];
        }

        private long At(string key, long now) => Math.Max(_fullAt.GetValueOrDefault(key), now);

        private static long Tokens(long fullAt, long now, ModelBucket b) =>
            Math.Max(0, (long)Math.Floor((double)(b.Capacity * b.Interval - (fullAt - now)) / b.Interval));
    }

    private sealed class Outcomes
    {
        public int Admitted { get; private set; }

        public int Rejected { get; private set; }

        public int Late { get; private set; }

        public int RejectedWithDebt { get; private set; }

        public int RepeatedKey { get; private set; }

        public int RepeatedKeyRejectedWithDebt { get; private set; }

        public int ZeroCost { get; private set; }

        public int Refunds { get; private set; }

        public int InDebt { get; private set; }

        public int ShadowPassed { get; private set; }

        public int ShadowRejectedWithOthers { get; private set; }

        public void Add(ModelRequest[] call, long[] reply)
        {
            var at = 1;
            foreach (var request in call)
            {
                var status = reply[at];
                for (var b = 0; b < request.Buckets.Length; b++)
                {
                    var bucket = request.Buckets[b];
                    var (retry, reset) = (reply[at + 2 + 3 * b], reply[at + 3 + 3 * b]);
                    Refunds += bucket.Debt < 0 && status != -1 ? 1 : 0;
                    InDebt += request.Overdraw && reset > bucket.Capacity * bucket.Interval ? 1 : 0;
                    ShadowPassed += bucket.Shadow && status == 1 && retry != 0 ? 1 : 0;
                    ShadowRejectedWithOthers += bucket.Shadow && status == 1 && retry != 0 && request.Buckets.Length > 1 ? 1 : 0;
                }
                at += 1 + 3 * request.Buckets.Length;
                var repeated = request.Buckets.Select(b => b.Key).Distinct().Count() < request.Buckets.Length;
                var debt = request.Buckets.Any(b => b.Debt != 0);
                Admitted += status == 1 ? 1 : 0;
                Late += status == -1 ? 1 : 0;
                Rejected += status == 0 ? 1 : 0;
                RejectedWithDebt += status == 0 && debt ? 1 : 0;
                RepeatedKey += repeated ? 1 : 0;
                RepeatedKeyRejectedWithDebt += status == 0 && debt && repeated ? 1 : 0;
                ZeroCost += request.Buckets.Any(b => b.Cost == 0) ? 1 : 0;
            }
        }

        public override string ToString() =>
            $"{Admitted} admitted, {Rejected} rejected ({RejectedWithDebt} with a debt), {Late} late; {RepeatedKey} with a key twice ({RepeatedKeyRejectedWithDebt} of them rejected with a debt), {ZeroCost} with a bucket that costs nothing; {Refunds} refunds, {InDebt} buckets left in debt, {ShadowPassed} shadow buckets that would have rejected ({ShadowRejectedWithOthers} beside other buckets)";
    }
}
