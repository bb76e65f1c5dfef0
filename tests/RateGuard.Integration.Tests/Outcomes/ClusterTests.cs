using System.Diagnostics;
using RateGuard.Operations;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Outcomes;

/// <summary>
/// Outcomes over a Redis Cluster, two instances taking turns: one request's limits on two keys live on two nodes, and
/// its refund reaches one while its charge reaches the other.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
public sealed class ClusterTests(RedisCluster cluster) : IClassFixture<RedisCluster>
{
    [Fact]
    public async Task Refunds_and_charges_reach_buckets_on_different_nodes_and_a_rejection_on_one_takes_nothing_from_the_other()
    {
        var prefix = "oc" + Guid.NewGuid().ToString("N")[..8];
        await using var first = await OutcomesApp.StartAsync(cluster.Configuration, prefix);
        await using var second = await OutcomesApp.StartAsync(cluster.Configuration, prefix);
        var apps = new[] { first, second };
        // A user and a tenant whose buckets two different primaries serve.
        const string tenant = "tenant-0";
        var user = Enumerable.Range(0, 100).Select(i => $"user-{i}").First(u => cluster.PrimaryOf(Slot(u)).Port != cluster.PrimaryOf(Slot(tenant)).Port);
        var turn = 0;
        async Task<int> Status(int status, double charge)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/split?status={status}&charge={charge}");
            request.Headers.Add("X-User", user);
            request.Headers.Add("X-Tenant", tenant);
            using var response = await apps[turn++ % 2].Client.SendAsync(request);
            return (int)response.StatusCode;
        }

        // per-user (5) counts failures; per-tenant (100) is charged what the handler reports.
        Assert.Equal(200, await Status(200, 50));
        Assert.Equal(500, await Status(500, 30));
        Assert.Equal(404, await Status(404, 0.5));

        // The success's token went back to per-user, the two failures kept theirs; per-tenant was charged 50 + 30 + 1.
        Assert.Equal(3, (await Holding(first, OutcomesApp.PerUser, user, 3)).Tokens);
        Assert.Equal(19, (await Holding(second, OutcomesApp.PerTenant, tenant, 19)).Tokens);

        // 200 more takes per-tenant into debt: the next request finds it empty, and per-user, on the other node, keeps
        // the token it was about to take.
        Assert.Equal(503, await Status(503, 200));
        var owed = await Settled(first, OutcomesApp.PerTenant, tenant, s => s.TimeToFull > TimeSpan.FromSeconds(250_000));
        Assert.InRange(owed.TimeToFull, TimeSpan.FromSeconds(250_000), TimeSpan.FromSeconds(281_000));
        Assert.Equal(429, await Status(500, 1));
        Assert.Equal(2, (await Holding(second, OutcomesApp.PerUser, user, 2)).Tokens);
        Assert.Equal(4, apps.Sum(a => a.Calls[OutcomesApp.PerUser]));
    }

    // The cluster slot of a client value's bucket: the value is the key's hash tag.
    private int Slot(string value) => cluster.Connection.HashSlot("{" + value + "}");

    private static Task<TokenBucketState> Holding(OutcomesApp app, string bucket, string key, long tokens) =>
        Settled(app, bucket, key, s => s.Tokens == tokens);

    private static async Task<TokenBucketState> Settled(OutcomesApp app, string bucket, string key, Func<TokenBucketState, bool> settled)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var state = await app.Operations.InspectAsync(bucket, key);
            if (settled(state) || waited.Elapsed > TimeSpan.FromSeconds(5))
            {
                return state;
            }
            await Task.Delay(20);
        }
    }
}
