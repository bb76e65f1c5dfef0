using System.Text.Json;
using RateGuard.Diagnostics;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Integration.Tests.Resilience;
using RateGuard.TestSupport;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Outcomes;

/// <summary>
/// Shadow mode, for the whole app or one bucket: every decision is made and charged as usual, but what the bucket would
/// refuse goes on, takes nothing from it, and is counted in the metrics, the operations service and the admin JSON. In
/// memory, and over one Redis with two instances taking turns.
/// </summary>
public sealed class ShadowModeTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private readonly OutcomeTurns _instances = new(redis, "sh" + Guid.NewGuid().ToString("N")[..8]);

    public static TheoryData<Store> Stores => new() { Store.InMemory, Store.Redis };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _instances.DisposeAsync();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task In_shadow_mode_for_the_app_what_a_bucket_would_reject_passes_takes_nothing_and_is_counted(Store store)
    {
        await _instances.StartAsync(store, new() { ["Mode"] = "Shadow" });
        using var counts = new AllCounts(_instances.Apps);

        await _instances.Expect(Repeat(200, 5), "/plain", "kim");
        using var passed = await _instances.Send("/plain", "kim");

        Assert.Equal(200, (int)passed.StatusCode);
        // Its headers are those the rejection would have carried: nothing left.
        Assert.StartsWith("\"plain\";r=0;", passed.Header("RateLimit"));
        Assert.Null(passed.Headers.RetryAfter);
        Assert.Equal(6, _instances.Apps.Sum(a => a.Calls[OutcomesApp.Plain]));
        Assert.Equal((2, 4), (counts[RequestResults.Acquired], counts[RequestResults.ShadowRejected]));
        Assert.Equal(0, counts[RequestResults.EndpointLimiter]);
        // Only the two admissions it held were charged: 2,000 s to full at 0.001 a second, not 6,000.
        var state = await _instances.Settled(OutcomesApp.Plain, "kim", _ => true);
        Assert.Equal(0, state.Tokens);
        Assert.InRange(state.TimeToFull, TimeSpan.FromSeconds(1_900), TimeSpan.FromSeconds(2_000));

        var summaries = _instances.Apps.Select(a => a.Operations.GetBuckets().Single(b => b.Name == OutcomesApp.Plain)).ToArray();
        Assert.All(summaries, s => Assert.Equal(TokenBucketMode.Shadow, s.Mode));
        Assert.Equal(4, summaries.Sum(s => s.Activity.ShadowRejected));
        Assert.Equal(0, summaries.Sum(s => s.Activity.Rejected));
        var buckets = await Task.WhenAll(_instances.Apps.Select(AdminBucketAsync));
        Assert.All(buckets, b => Assert.Equal("Shadow", b.GetProperty("mode").GetString()));
        Assert.Equal(4, buckets.Sum(b => b.GetProperty("shadowRejected").GetInt64()));
        Assert.Equal(0, buckets.Sum(b => b.GetProperty("rejected").GetInt64()));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_bucket_in_shadow_mode_beside_an_enforcing_one_only_counts_and_the_other_rejects_exactly_at_its_capacity(Store store)
    {
        await _instances.StartAsync(store, new() { ["Buckets:watched:Mode"] = "Shadow" });
        using var counts = new AllCounts(_instances.Apps);

        // watched holds 2 and only watches; enforced holds 4.
        await _instances.Expect(Repeat(200, 4), "/watched", "lee");
        using var refused = await _instances.Send("/watched", "lee");
        Assert.Equal(429, (int)refused.StatusCode);
        Assert.Contains("Rate limit 'enforced' exceeded", await refused.Content.ReadAsStringAsync());
        await _instances.Expect([429], "/watched", "lee");

        Assert.Equal(4, _instances.Apps.Sum(a => a.Calls[OutcomesApp.Watched]));
        // watched took its 2 tokens and nothing after; enforced took 4.
        var watched = await _instances.Settled(OutcomesApp.Watched, "lee", _ => true);
        Assert.InRange(watched.TimeToFull, TimeSpan.FromSeconds(1_900), TimeSpan.FromSeconds(2_000));
        var enforced = await _instances.Settled(OutcomesApp.Enforced, "lee", _ => true);
        Assert.InRange(enforced.TimeToFull, TimeSpan.FromSeconds(3_900), TimeSpan.FromSeconds(4_000));
        // watched would have refused the third request on: the two it let through and the two enforced refused.
        var summaries = _instances.Apps.SelectMany(a => a.Operations.GetBuckets()).ToArray();
        Assert.All(summaries.Where(s => s.Name == OutcomesApp.Watched), s => Assert.Equal(TokenBucketMode.Shadow, s.Mode));
        Assert.All(summaries.Where(s => s.Name == OutcomesApp.Enforced), s => Assert.Equal(TokenBucketMode.Enforce, s.Mode));
        Assert.Equal(4, summaries.Where(s => s.Name == OutcomesApp.Watched).Sum(s => s.Activity.ShadowRejected));
        Assert.Equal(0, summaries.Where(s => s.Name == OutcomesApp.Enforced).Sum(s => s.Activity.ShadowRejected));
        Assert.Equal(2, summaries.Where(s => s.Name == OutcomesApp.Enforced).Sum(s => s.Activity.Rejected));
        Assert.Equal(4, counts[RequestResults.ShadowRejected]);
        Assert.Equal(2, counts[RequestResults.EndpointLimiter]);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task In_shadow_mode_a_denied_client_and_a_request_without_a_key_pass_and_are_counted(Store store)
    {
        await _instances.StartAsync(store, new() { ["Buckets:plain:Mode"] = "Shadow", ["Buckets:plain:Deny:0"] = "mallory" });
        using var counts = new AllCounts(_instances.Apps);

        await _instances.Expect([200, 200], "/plain", "mallory");
        using var keyless = await _instances.Apps[0].Client.GetAsync("/plain");

        Assert.Equal(200, (int)keyless.StatusCode);
        Assert.Equal(3, counts[RequestResults.ShadowRejected]);
        Assert.Equal(0, counts[RequestResults.Denied] + counts[RequestResults.MissingKey]);
        Assert.Equal(3, _instances.Apps.Sum(a => a.Operations.GetBuckets().Single(b => b.Name == OutcomesApp.Plain).Activity.ShadowRejected));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task In_shadow_mode_a_request_without_a_key_that_the_limit_would_admit_is_no_shadow_rejection(Store store)
    {
        await _instances.StartAsync(store, new() { ["Mode"] = "Shadow", ["MissingKey"] = "Admit" });
        using var counts = new AllCounts(_instances.Apps);

        using var keyless = await _instances.Apps[0].Client.GetAsync("/plain");

        Assert.Equal(200, (int)keyless.StatusCode);
        // Enforced, the limit would let it through unchecked as well: there is nothing it would have refused.
        Assert.Equal(0, counts[RequestResults.ShadowRejected]);
        Assert.Equal(0, _instances.Apps.Sum(a => a.Operations.GetBuckets().Single(b => b.Name == OutcomesApp.Plain).Activity.ShadowRejected));
    }

    // The plain bucket as the admin endpoint's JSON gives it.
    private static async Task<JsonElement> AdminBucketAsync(OutcomesApp app)
    {
        using var json = JsonDocument.Parse(await app.AdminBucketsJsonAsync());
        return json.RootElement.GetProperty("buckets").EnumerateArray().Single(b => b.GetProperty("name").GetString() == OutcomesApp.Plain).Clone();
    }

    // The decisions of every instance, by result.
    private sealed class AllCounts(OutcomesApp[] apps) : IDisposable
    {
        private readonly MeterCounts[] _counts = [.. apps.Select(a => MeterCounts.Decisions(a.App.Services))];

        public int this[string result] => _counts.Sum(c => c[result]);

        public void Dispose()
        {
            foreach (var count in _counts)
            {
                count.Dispose();
            }
        }
    }
}
