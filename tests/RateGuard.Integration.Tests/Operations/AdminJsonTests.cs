using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using RateGuard.Http.Admin;
using RateGuard.Integration.Tests.Infrastructure;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// The JSON of <c>buckets</c>, <c>inspect</c> and <c>reset</c>, asserted whole (names, order, types and values) for a
/// known state of the real operations service over the in-memory store.
/// </summary>
public sealed class AdminJsonTests
{
    [Fact]
    public async Task Buckets_gives_the_window_the_servers_and_each_bucket_with_its_activity_and_rejected_clients()
    {
        await using var app = await AdminApp.StartAsync();
        var before = DateTimeOffset.UtcNow;
        await app.RejectAsync("alice", rejections: 1);
        var after = DateTimeOffset.UtcNow;

        using var response = await app.AdminAsync(HttpMethod.Get, "buckets");
        using var body = await ReadJsonAsync(response);
        var root = body.RootElement;

        AssertNames(root, "windowSeconds", "servers", "instances", "buckets");
        Assert.Equal(300, root.GetProperty("windowSeconds").GetDouble());
        Assert.Equal(1, root.GetProperty("instances").GetInt32());

        var server = Assert.Single(root.GetProperty("servers").EnumerateArray());
        AssertNames(server, "server", "circuit");
        Assert.Equal("memory", server.GetProperty("server").GetString());
        Assert.Equal("Closed", server.GetProperty("circuit").GetString());

        var bucket = Assert.Single(root.GetProperty("buckets").EnumerateArray());
        AssertNames(bucket, "name", "capacity", "rate", "cost", "failureMode", "mode", "admitted", "rejected", "shadowRejected", "admittedPerSecond", "rejectedPerSecond", "topRejected");
        Assert.Equal(AdminApp.Bucket, bucket.GetProperty("name").GetString());
        Assert.Equal(AdminApp.Capacity, bucket.GetProperty("capacity").GetInt32());
        Assert.Equal(AdminApp.Rate, bucket.GetProperty("rate").GetDouble());
        Assert.Equal(1, bucket.GetProperty("cost").GetInt32());
        Assert.Equal("Open", bucket.GetProperty("failureMode").GetString());
        Assert.Equal(2, bucket.GetProperty("admitted").GetInt64());
        Assert.Equal(1, bucket.GetProperty("rejected").GetInt64());
        Assert.Equal(2 / 300.0, bucket.GetProperty("admittedPerSecond").GetDouble());
        Assert.Equal(1 / 300.0, bucket.GetProperty("rejectedPerSecond").GetDouble());

        var client = Assert.Single(bucket.GetProperty("topRejected").EnumerateArray());
        AssertNames(client, "key", "rejections", "uncertain", "lastRejected", "hashed");
        Assert.Equal("alice", client.GetProperty("key").GetString());
        Assert.Equal(1, client.GetProperty("rejections").GetInt64());
        Assert.Equal(0, client.GetProperty("uncertain").GetInt64());
        Assert.Equal(JsonValueKind.String, client.GetProperty("lastRejected").ValueKind);
        var lastRejected = client.GetProperty("lastRejected").GetDateTimeOffset();
        Assert.InRange(lastRejected, before.AddSeconds(-1), after.AddSeconds(1));
        Assert.Equal(JsonValueKind.False, client.GetProperty("hashed").ValueKind);
    }

    [Fact]
    public async Task Through_a_flood_of_rotating_api_keys_no_listed_count_exceeds_the_true_one_and_the_heavy_hitters_are_exact()
    {
        // Each key is used six times against a capacity of five, as a key-rotating scraper does: rejected once.
        const int capacity = 5;
        await using var app = await AdminApp.StartAsync(
            itemsEndpoint: false,
            map: a => a.MapGet("/items/{id}", (string id) => id).RequireTokenBucket(capacity, AdminApp.Rate, key: "header:" + AdminApp.ClientHeader));
        var truth = new Dictionary<string, long>(StringComparer.Ordinal);
        async Task UseAsync(string key)
        {
            if (await app.RequestItemAsync(key) == 429)
            {
                truth[key] = truth.GetValueOrDefault(key) + 1;
            }
        }
        string[] heavy = ["heavy-a", "heavy-b"];
        foreach (var key in heavy)
        {
            for (var i = 0; i <= capacity; i++)
            {
                await UseAsync(key);
            }
        }
        for (var k = 0; k < 3_000; k++)
        {
            for (var i = 0; i <= capacity; i++)
            {
                await UseAsync("rotating-" + k);
            }
            for (var h = 0; h < heavy.Length; h++)
            {
                if (k % (10 << h) == 0)
                {
                    await UseAsync(heavy[h]);
                }
            }
        }

        using var body = await ReadJsonAsync(await app.AdminAsync(HttpMethod.Get, "buckets"));
        var listed = body.RootElement.GetProperty("buckets")[0].GetProperty("topRejected").EnumerateArray()
            .Select(c => (Key: c.GetProperty("key").GetString()!, Rejections: c.GetProperty("rejections").GetInt64(), Uncertain: c.GetProperty("uncertain").GetInt64()))
            .ToArray();

        Assert.All(truth.Where(t => !heavy.Contains(t.Key)), t => Assert.Equal(1, t.Value));
        Assert.Equal(AdminSnapshot.TopRejectedCount, listed.Length);
        Assert.Equal([(heavy[0], truth[heavy[0]], 0L), (heavy[1], truth[heavy[1]], 0L)], listed.Take(2));
        Assert.Equal([301L, 151L], listed.Take(2).Select(c => c.Rejections));
        Assert.All(listed, c => Assert.InRange(truth[c.Key], c.Rejections, c.Rejections + c.Uncertain));
        Assert.All(listed.Skip(2), c => Assert.Equal(1, c.Rejections));
        // The clients that took a full table's place inherited counts that were never theirs: they are told apart.
        Assert.Contains(listed, c => c.Uncertain > 0);
    }

    [Fact]
    public async Task Inspect_gives_the_clients_bucket_as_the_store_holds_it_and_takes_nothing()
    {
        await using var app = await AdminApp.StartAsync();
        await app.RejectAsync("alice");

        using var empty = await ReadJsonAsync(await app.AdminAsync(HttpMethod.Get, Inspect("alice")));
        using var again = await ReadJsonAsync(await app.AdminAsync(HttpMethod.Get, Inspect("alice")));
        using var full = await ReadJsonAsync(await app.AdminAsync(HttpMethod.Get, Inspect("carol")));

        var state = empty.RootElement;
        AssertNames(state, "bucket", "key", "tokens", "capacity", "rate", "timeToFullSeconds", "debt");
        Assert.Equal(AdminApp.Bucket, state.GetProperty("bucket").GetString());
        Assert.Equal("alice", state.GetProperty("key").GetString());
        Assert.Equal(0, state.GetProperty("tokens").GetInt64());
        Assert.Equal(AdminApp.Capacity, state.GetProperty("capacity").GetInt32());
        Assert.Equal(AdminApp.Rate, state.GetProperty("rate").GetDouble());
        // Two tokens at one per 1,000 s: full again in just under 2,000 s (less what has refilled since).
        Assert.InRange(state.GetProperty("timeToFullSeconds").GetDouble(), 1_900, 2_000);
        Assert.Equal(0, again.RootElement.GetProperty("tokens").GetInt64());

        Assert.Equal("carol", full.RootElement.GetProperty("key").GetString());
        Assert.Equal(AdminApp.Capacity, full.RootElement.GetProperty("tokens").GetInt64());
        Assert.Equal(0, full.RootElement.GetProperty("timeToFullSeconds").GetDouble());
        // Inspecting took nothing: carol still has her whole bucket.
        Assert.Equal(200, await app.RequestItemAsync("carol"));
        Assert.Equal(200, await app.RequestItemAsync("carol"));
    }

    [Fact]
    public async Task Reset_answers_204_with_no_body_and_the_client_is_admitted_again()
    {
        await using var app = await AdminApp.StartAsync();
        await app.RejectAsync("alice");
        await app.RejectAsync("bob");

        using var response = await app.AdminAsync(HttpMethod.Post, "reset", $$"""{"bucket": "{{AdminApp.Bucket}}", "key": "alice"}""");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("no-store", response.Header("Cache-Control"));
        using var state = await ReadJsonAsync(await app.AdminAsync(HttpMethod.Get, Inspect("alice")));
        Assert.Equal(AdminApp.Capacity, state.RootElement.GetProperty("tokens").GetInt64());
        Assert.Equal(0, state.RootElement.GetProperty("timeToFullSeconds").GetDouble());
        Assert.Equal(200, await app.RequestItemAsync("alice"));
        // Only the client named was reset.
        Assert.Equal(429, await app.RequestItemAsync("bob"));
    }

    [Fact]
    public async Task An_unknown_bucket_is_404_with_the_services_suggestion()
    {
        await using var app = await AdminApp.StartAsync();

        using var response = await app.AdminAsync(HttpMethod.Get, "inspect?bucket=GET%20%2Fitem%2F%7Bid%7D&key=alice");

        var detail = await AdminErrorTests.AssertProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Contains($"Did you mean '{AdminApp.Bucket}'?", detail);
    }

    /// <summary>The inspect route for <paramref name="key"/> in the app's bucket, both URL-encoded.</summary>
    internal static string Inspect(string key) =>
        $"inspect?bucket={Uri.EscapeDataString(AdminApp.Bucket)}&key={Uri.EscapeDataString(key)}";

    /// <summary>Asserts a 200 JSON answer with the admin headers and parses it.</summary>
    internal static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
            Assert.Equal("no-store", response.Header("Cache-Control"));
            Assert.Equal("nosniff", response.Header("X-Content-Type-Options"));
            return JsonDocument.Parse(text);
        }
    }

    private static void AssertNames(JsonElement element, params string[] names)
    {
        Assert.Equal(JsonValueKind.Object, element.ValueKind);
        Assert.Equal(names, element.EnumerateObject().Select(p => p.Name));
    }
}
