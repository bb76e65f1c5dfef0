using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Clients;
using RateGuard.Operations;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Clients;

/// <summary>
/// Plans, lists and overrides over a Redis Cluster, two instances taking turns: a client's buckets live on the node of
/// its key's slot whatever its plan, and a request drawing on two buckets is still decided all or nothing.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
public sealed class ClientsClusterTests(RedisCluster cluster) : IClassFixture<RedisCluster>
{
    [Fact]
    public async Task Plans_lists_and_overrides_hold_over_a_cluster()
    {
        var prefix = "cc" + Guid.NewGuid().ToString("N")[..8];
        await using var first = await ClientsApp.StartOnAsync(cluster.Configuration, prefix);
        await using var second = await ClientsApp.StartOnAsync(cluster.Configuration, prefix);
        var apps = new[] { first, second };
        var turn = 0;
        async Task<int> Status(string path, string user, string? plan = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("X-User", user);
            if (plan is not null)
            {
                request.Headers.Add("X-Plan", plan);
            }
            using var response = await apps[turn++ % 2].Client.SendAsync(request);
            return (int)response.StatusCode;
        }
        async Task<int[]> Statuses(int count, string path, string user, string? plan = null)
        {
            var statuses = new int[count];
            for (var i = 0; i < count; i++)
            {
                statuses[i] = await Status(path, user, plan);
            }
            return statuses;
        }

        // Clients spread over the nodes, each held to its plan's capacity.
        foreach (var user in Enumerable.Range(0, 12).Select(i => $"user-{i}"))
        {
            Assert.Equal(new[] { 200, 200, 200, 200, 429 }, await Statuses(5, "/api", user, "gold"));
            Assert.Equal(new[] { 429 }, await Statuses(1, "/api", user));
        }
        Assert.All(await Statuses(6, "/api", "sam", "staff"), s => Assert.Equal(200, s));
        Assert.Equal(new[] { 403 }, await Statuses(1, "/api", "mallory", "staff"));
        // Two buckets, all or nothing: flat's 3 refuses the fourth, which takes nothing from api.
        Assert.Equal(new[] { 200, 200, 200, 429 }, await Statuses(4, "/both", "ann", "gold"));
        Assert.Equal(new[] { 200, 429 }, await Statuses(2, "/api", "ann", "gold"));
        // An override set through one instance, kept in the cluster's overrides hash, applies on both and beats the plan.
        await first.App.Services.GetRequiredService<ITokenBucketOperations>().SetOverrideAsync("api", "bob", 3, 0.001, TimeSpan.FromMinutes(5));
        var declared = new TokenBucketPolicy("api", 2, 0.001);
        var waited = Stopwatch.StartNew();
        while (!apps.All(a => a.App.Services.GetRequiredService<ClientOverrides>().TryGet(declared, "bob", out _)))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "both instances apply the override");
            await Task.Delay(10);
        }
        Assert.Equal(new[] { 200, 200, 200, 429 }, await Statuses(4, "/api", "bob", "staff"));
        var nodes = cluster.Nodes.Select(n => long.Parse(n.Command("EVAL", "return #redis.call('KEYS', ARGV[1])", "0", prefix + ":*").TrimStart(':').Trim())).ToArray();
        Assert.True(nodes.Count(n => n > 0) >= 2, $"The buckets landed on {nodes.Count(n => n > 0)} node(s): {string.Join(", ", nodes)}.");
    }
}
