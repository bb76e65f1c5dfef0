using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using RateGuard.TestSupport;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Redis;

[Collection(RedisCollection.Name)]
public sealed class BatchingTests(RedisFixture redis, ITestOutputHelper output)
{
    // How long a lane's newest call may be out before requests queued behind it go out without it: the limiter's default
    // of a quarter of its 100 ms budget is for requests with deadlines, and these have none.
    private static readonly TimeSpan s_stall = TimeSpan.FromMilliseconds(100);

    // Redis expires a key on its own clock when the bucket is full again by the client clock's reckoning, and the
    // client clock here is a manual one. The refills are slow (a token takes 100 s or more) and the client clock moves
    // on by minutes between steps, so a key's life in real time is never shorter than tens of seconds: however slowly a
    // busy machine runs a step, no key expires before the client clock says its bucket is full.
    private static readonly TokenBucketPolicy[] s_policies =
    [
        TestPolicies.Create(capacity: 5, rate: 0.01),
        TestPolicies.Create(capacity: 12, rate: 0.005),
        TestPolicies.Create(capacity: 3, rate: 0.0025),
    ];

    [Fact]
    public async Task A_batched_run_of_a_random_sequence_decides_exactly_as_one_call_per_request()
    {
        // The client clock stands still within a step, so every call of a step decides at the same time whether the
        // step went out as one call per request or as batches, and the two runs must agree request by request.
        var sequence = RandomSequence(seed: 20261130, steps: 60);
        var unbatched = await RunAsync(sequence, "conf-one", batched: false);
        var before = ScriptCalls();
        var batched = await RunAsync(sequence, "conf-batch", batched: true);
        var calls = ScriptCalls() - before;

        var requests = sequence.Sum(s => s.Requests.Length);
        output.WriteLine($"{requests} requests in {sequence.Length} steps; batched: {calls} script calls; admitted {batched.Count(r => r.Status == 1)}");
        Assert.Equal(requests, unbatched.Count);
        for (var i = 0; i < requests; i++)
        {
            Assert.True(unbatched[i] == batched[i], $"Request {i}: one call per request gave {unbatched[i]}, batched gave {batched[i]}.");
        }
        // The sequence must mean something: both outcomes, and far fewer calls than requests.
        Assert.Contains(batched, r => r.Status == 1);
        Assert.Contains(batched, r => r.Status == 0);
        Assert.True(calls <= 2 * sequence.Length + requests / ScriptBatcher.MostRequests, $"{calls} script calls for {requests} requests in {sequence.Length} steps.");
    }

    [Fact]
    public async Task An_idle_store_sends_a_decision_at_once_in_a_call_of_its_own()
    {
        using var store = new RedisTokenBucketStore(redis.Connection, "idle");
        var policy = s_policies[0];
        var decisions = new RateLimitDecision[1];
        // The script loaded first: on a server that does not know it yet, the first call is an EVALSHA and an EVAL.
        await store.DecideAsync([store.GetKey(policy, "warm-up")], [new BucketCharge(policy, 1, 0)], 0);
        var before = ScriptCalls();
        for (var i = 0; i < 3; i++)
        {
            // Nothing in flight: the call goes out at once, alone, and its answer is the bucket's.
            var reply = TokenBucketScript.Read(await Batched(store, [store.GetKey(policy, "c")], [new BucketCharge(policy, 1, 0)]), decisions);
            Assert.Equal(ScriptStatus.Decided, reply.Status);
            Assert.Equal(policy.Capacity - 1 - i, decisions[0].Remaining);
        }
        Assert.Equal(3, ScriptCalls() - before);
    }

    [Fact]
    public async Task A_request_whose_caller_stopped_waiting_before_its_batch_went_out_takes_nothing()
    {
        using var store = new RedisTokenBucketStore(redis.Connection, "abandon");
        var policy = s_policies[1];
        RedisKey[] keys = [store.GetKey(policy, "c")];
        BucketCharge[] charges = [new(policy, 1, 0)];
        redis.Server.Pause();
        PendingCall first, queued;
        try
        {
            // The first call is in flight (Redis is paused), so the second waits for it, and is abandoned there.
            first = store.Send(keys, charges, 0, batched: true, s_stall);
            queued = store.Send(keys, charges, 0, batched: true, s_stall);
            queued.Abandon();
        }
        finally
        {
            redis.Server.Resume();
        }
        var decisions = new RateLimitDecision[1];
        TokenBucketScript.Read(await first.AnswerAsync(), decisions);
        Assert.Equal(policy.Capacity - 1, decisions[0].Remaining);
        // A later request of the same lane goes out after where the abandoned one would have: by its answer, that one
        // was left out, and the bucket shows only the first.
        TokenBucketScript.Read(await Batched(store, keys, [new BucketCharge(policy, 0, 0)]), decisions);
        Assert.Equal(policy.Capacity - 1, decisions[0].Remaining);
        Assert.False(queued.IsAnswered);
    }

    [Fact]
    public async Task Requests_queued_behind_a_stalled_call_go_out_one_batch_a_stall_not_one_call_a_request()
    {
        // A process that reads its replies late (or a server that answers late) keeps calls out past the stall time. The
        // requests that arrive then still go out in batches: one call when the newest call stalls, then one call for
        // each full batch, never one call for each request.
        var clock = new ManualClock();
        using var store = new RedisTokenBucketStore(Task.FromResult<IConnectionMultiplexer>(redis.Connection), "stall", clientClock: null, ownsConnection: false, clock);
        var stall = TimeSpan.FromMilliseconds(50);
        var policy = TestPolicies.Create(capacity: 1000, rate: 0.001);
        RedisKey[] keys = [store.GetKey(policy, "c")];
        BucketCharge[] charges = [new(policy, 1, 0)];
        await store.DecideAsync(keys, charges, 0); // the script loaded, so that every call below is one EVALSHA
        const int arrivals = 200;
        var before = ScriptCalls();
        var calls = new List<PendingCall>();
        redis.Server.Pause();
        try
        {
            calls.Add(store.Send(keys, charges, 0, batched: true, stall)); // in flight, and not coming back while Redis is paused
            clock.Advance(TimeSpan.FromMilliseconds(60));
            for (var i = 0; i < arrivals; i++)
            {
                calls.Add(store.Send(keys, charges, 0, batched: true, stall));
            }
        }
        finally
        {
            redis.Server.Resume();
        }
        var decisions = new RateLimitDecision[1];
        var remaining = new List<long>();
        foreach (var call in calls)
        {
            Assert.Equal(ScriptStatus.Decided, TokenBucketScript.Read(await call.AnswerAsync(), decisions).Status);
            remaining.Add(decisions[0].Remaining);
        }
        var sent = ScriptCalls() - before;
        output.WriteLine($"{calls.Count} requests in {sent} script calls");
        // The first call; the first arrival after the stall, alone; then full batches, and the rest when the calls come back.
        Assert.True(sent <= 3 + arrivals / ScriptBatcher.MostRequests, $"{sent} script calls for {calls.Count} requests.");
        // And in arrival order, each taking one token.
        Assert.Equal(Enumerable.Range(0, calls.Count).Select(i => policy.Capacity - 1L - 1 - i), remaining);
    }

    private long ScriptCalls() => redis.CommandCalls("evalsha") + redis.CommandCalls("eval");

    private async Task<List<Outcome>> RunAsync(Step[] sequence, string prefix, bool batched)
    {
        var clock = new ManualClock();
        using var store = new RedisTokenBucketStore(redis.Connection, prefix, clock);
        var outcomes = new List<Outcome>();
        foreach (var step in sequence)
        {
            clock.Advance(step.Advance);
            if (batched)
            {
                // Sent in order without waiting: the first goes out alone, the rest wait for it and go out together.
                var calls = step.Requests.Select(r => (Request: r, Call: Batched(store, Keys(store, r), r.Charges))).ToList();
                foreach (var (request, call) in calls)
                {
                    outcomes.Add(Read(request, await call));
                }
            }
            else
            {
                foreach (var request in step.Requests)
                {
                    outcomes.Add(Read(request, await store.DecideAsync(Keys(store, request), request.Charges, 0)));
                }
            }
        }
        return outcomes;
    }

    private static Task<ScriptResult> Batched(RedisTokenBucketStore store, RedisKey[] keys, BucketCharge[] charges) =>
        store.Send(keys, charges, 0, batched: true, s_stall).AnswerAsync();

    private static RedisKey[] Keys(RedisTokenBucketStore store, Request request) =>
        request.Charges.Select((c, i) => (RedisKey)store.GetKey(c.Policy, request.Clients[i])).ToArray();

    private static Outcome Read(Request request, ScriptResult result)
    {
        var decisions = new RateLimitDecision[request.Charges.Length];
        var reply = TokenBucketScript.Read(result, decisions);
        return new Outcome(reply.Status == ScriptStatus.Late ? -1 : decisions[0].IsAdmitted ? 1 : 0, string.Join(";", decisions));
    }

    // Many clients, three bucket shapes, one or two buckets a request, costs from 1 to past a small bucket's capacity,
    // and now and then a debt (what a local fallback owes) or tokens given back.
    private static Step[] RandomSequence(int seed, int steps)
    {
        var random = new Random(seed);
        var sequence = new Step[steps];
        for (var s = 0; s < steps; s++)
        {
            var requests = new Request[random.Next(1, 150)];
            for (var r = 0; r < requests.Length; r++)
            {
                var count = random.Next(4) == 0 ? 2 : 1;
                var charges = new BucketCharge[count];
                var clients = new string[count];
                var first = random.Next(s_policies.Length);
                for (var b = 0; b < count; b++)
                {
                    var policy = s_policies[(first + b) % s_policies.Length];
                    var debt = random.Next(20) switch { 0 => 2, 1 => -1, _ => 0 };
                    charges[b] = new BucketCharge(policy, random.Next(1, 5), debt);
                    clients[b] = "client-" + random.Next(25);
                }
                requests[r] = new Request(charges, clients);
            }
            sequence[s] = new Step(TimeSpan.FromMilliseconds(random.Next(500, 2500) * 100), requests);
        }
        return sequence;
    }

    private sealed record Step(TimeSpan Advance, Request[] Requests);

    private sealed record Request(BucketCharge[] Charges, string[] Clients);

    private readonly record struct Outcome(int Status, string Decisions);
}
