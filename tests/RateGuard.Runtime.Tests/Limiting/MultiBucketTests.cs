using RateGuard.Diagnostics;
using RateGuard.Limiting;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Runtime.Tests.Resilience;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Limiting;

/// <summary>Requests that draw from two buckets at once, through the limiter, under concurrency.</summary>
public sealed class MultiBucketTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Sixty_four_callers_on_two_buckets_never_overdraw_one_and_drain_the_shared_one_only_by_admissions(bool redis)
    {
        using var server = redis ? RedisServer.Start() : null;
        using var harness = new LimiterHarness(o =>
        {
            o.Redis = server is null ? null : $"127.0.0.1:{server.Port}";
            o.DenyCache = false; // every request decides both buckets
            o.Timeout = TimeSpan.FromSeconds(5);
        });
        if (server is not null)
        {
            await harness.ConnectedAsync();
        }
        // Refills are negligible over the test: every token taken stays taken.
        var shared = TestPolicies.Create(capacity: 1000, rate: 0.001);
        var own = TestPolicies.Create(capacity: 5, rate: 0.001);

        var admitted = await Task.WhenAll(Enumerable.Range(0, 64).Select(caller => Task.Run(async () =>
        {
            var count = 0;
            for (var i = 0; i < 40; i++)
            {
                if (await Decide(harness, [(shared, "everyone"), (own, $"caller-{caller}")]))
                {
                    count++;
                }
            }
            return count;
        })));

        // Each caller's own bucket admits exactly its 5, so the shared one gave 320 and holds the other 680.
        Assert.All(admitted, n => Assert.Equal(own.Capacity, n));
        var probe = await harness.Acquire(shared.WithCost(1), "everyone");
        output.WriteLine($"shared bucket after: {probe.Decision.Remaining} left");
        Assert.Equal(shared.Capacity - 64 * own.Capacity - 1, probe.Decision.Remaining);
        Assert.Equal(64 * own.Capacity, harness.Count(own.Name, RequestResults.Acquired));
        Assert.Equal(64 * (40 - own.Capacity), harness.Count(own.Name, RequestResults.EndpointLimiter));
        Assert.Equal(0, harness.Count(shared.Name, RequestResults.EndpointLimiter)); // it never rejected anyone
        Assert.Equal(64 * own.Capacity + 1, harness.Count(shared.Name, RequestResults.Acquired)); // nor admitted what it was not charged for
    }

    [Fact]
    public async Task A_two_bucket_request_is_one_evalsha_on_a_standalone_redis()
    {
        using var redis = new RedisFixture();
        using var harness = new LimiterHarness(redis.Connection, o => o.DenyCache = false);
        var global = TestPolicies.Create(capacity: 100, rate: 1);
        var perClient = TestPolicies.Create(capacity: 3, rate: 0.01);
        await Decide(harness, [(global, "warm-up"), (perClient, "warm-up")]);
        redis.Admin.Execute("CONFIG", "RESETSTAT");

        for (var i = 0; i < 10; i++)
        {
            await Decide(harness, [(global, "everyone"), (perClient, "client")]);
        }

        Assert.Equal(10, redis.CommandCalls("evalsha"));
        Assert.Equal(0, redis.CommandCalls("eval"));
    }

    [Fact]
    public async Task A_remembered_rejection_of_one_bucket_rejects_locally_without_asking_the_other()
    {
        using var redis = new RedisFixture();
        using var harness = new LimiterHarness(redis.Connection);
        var global = TestPolicies.Create(capacity: 100, rate: 1);
        var perClient = TestPolicies.Create(capacity: 1, rate: 0.01);
        Assert.True(await Decide(harness, [(global, "everyone"), (perClient, "client")]));
        Assert.False(await Decide(harness, [(global, "everyone"), (perClient, "client")]));
        redis.Admin.Execute("CONFIG", "RESETSTAT");

        var request = LimitRequest.Rent();
        request.Add(global, FailureMode.Open, "everyone");
        request.Add(perClient, FailureMode.Open, "client");
        var admitted = await harness.Limiter.AcquireAsync(request, CancellationToken.None);

        Assert.False(admitted);
        Assert.Equal(DecisionSource.NotAsked, request.Results[0].Source);
        Assert.Equal(DecisionSource.DenyCache, request.Results[1].Source);
        Assert.True(request.Results[1].Decision.RetryAfter > TimeSpan.FromSeconds(90));
        Assert.Equal(0, redis.CommandCalls("evalsha"));
        Assert.Equal(98, (await harness.Acquire(global, "everyone")).Decision.Remaining); // one admitted, one probe
        LimitRequest.Return(request);
    }

    internal static async Task<bool> Decide(LimiterHarness harness, (TokenBucketPolicy Policy, string Key)[] buckets)
    {
        var request = LimitRequest.Rent();
        try
        {
            foreach (var (policy, key) in buckets)
            {
                request.Add(policy, FailureMode.Open, key);
            }
            return await harness.Limiter.AcquireAsync(request, CancellationToken.None);
        }
        finally
        {
            LimitRequest.Return(request);
        }
    }
}
