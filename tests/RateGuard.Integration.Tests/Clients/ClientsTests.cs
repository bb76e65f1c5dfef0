using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Clients;
using RateGuard.Diagnostics;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Integration.Tests.Resilience;
using RateGuard.Operations;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Clients;

/// <summary>
/// A limit that depends on who is calling: the caller's plan gives the bucket its capacity and rate, wherever the limit
/// is written and wherever the plan is read from; unlimited plans and exempt keys skip the bucket, denied keys get 403;
/// an operator's override beats the plan. In memory, and over one Redis with two instances taking turns.
/// </summary>
public sealed class ClientsTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private readonly TakingTurns _instances = new(redis, "cl" + Guid.NewGuid().ToString("N")[..8]);

    public static TheoryData<Store> Stores => new() { Store.InMemory, Store.Redis };

    private static readonly (string, string) s_gold = ("X-Plan", "gold");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _instances.DisposeAsync();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_callers_plan_gives_the_bucket_its_capacity_and_headers_show_it(Store store)
    {
        await StartAsync(store);

        // Gold holds 4; no plan, or a plan the bucket does not declare, the limit's own 2.
        await Expect([200, 200, 200, 200, 429], 5, "/api", "ann", s_gold);
        await Expect([200, 200, 429], 3, "/api", "bob");
        await Expect([200, 200, 429], 3, "/api", "cat", ("X-Plan", "platinum"));

        using var gold = await _instances.Send("GET", "/api", "dan", s_gold);
        Assert.Equal("\"api\";q=4;w=4000", gold.Header("RateLimit-Policy"));
        Assert.Equal("\"api\";r=3;t=1000", gold.Header("RateLimit"));
        using var plain = await _instances.Send("GET", "/api", "eve");
        Assert.Equal("\"api\";q=2;w=2000", plain.Header("RateLimit-Policy"));
        using var rejected = await _instances.Send("GET", "/api", "ann", s_gold);
        Assert.Contains("4 requests", await rejected.Content.ReadAsStringAsync());
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_client_whose_plan_changes_keeps_its_bucket(Store store)
    {
        await StartAsync(store);

        // Ann spends the 2 tokens of no plan; moved to gold she has what she had not spent of 4, not a full bucket.
        await Expect([200, 200, 429], 3, "/api", "ann");
        await Expect([200, 200, 429], 3, "/api", "ann", s_gold);
        // And back on no plan she is still empty.
        await Expect([429], 1, "/api", "ann");
        if (store == Store.Redis)
        {
            Assert.Equal([$"{_instances.Prefix}:api:{{ann}}"], Keys());
        }
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Unlimited_plans_and_exempt_keys_skip_the_bucket_and_denied_keys_get_403(Store store)
    {
        await StartAsync(store);
        var counts = _instances.Apps.Cast<ClientsApp>().Select(a => MeterCounts.Decisions(a.App.Services)).ToArray();
        try
        {
            await SkippedAndDenied(store, counts);
        }
        finally
        {
            foreach (var count in counts)
            {
                count.Dispose();
            }
        }
    }

    private async Task SkippedAndDenied(Store store, MeterCounts[] counts)
    {

        Assert.All(await Statuses(6, "/api", "sam", ("X-Plan", "staff")), s => Assert.Equal(200, s));
        Assert.All(await Statuses(6, "/api", "probe"), s => Assert.Equal(200, s));
        using var staff = await _instances.Send("GET", "/api", "sam", ("X-Plan", "staff"));
        Assert.Null(staff.Header("RateLimit-Policy"));

        // Denied whatever the plan: a problem that says why, and no bucket is touched.
        using var denied = await _instances.Send("GET", "/api", "mallory", ("X-Plan", "staff"));
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal("application/problem+json", denied.Content.Headers.ContentType?.MediaType);
        Assert.Contains("deny list", await denied.Content.ReadAsStringAsync());
        Assert.Null(denied.Headers.RetryAfter);
        // 13 requests skipped the bucket and one was denied, whichever instance answered each.
        Assert.Equal(13, counts.Sum(c => c[RequestResults.Exempt]));
        Assert.Equal(1, counts.Sum(c => c[RequestResults.Denied]));
        if (store == Store.Redis)
        {
            Assert.Empty(Keys());
        }
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task The_plan_is_read_by_a_resolver_from_a_route_value_on_a_group_an_action_and_a_declared_limit(Store store)
    {
        await StartAsync(store);

        await Expect([200, 200, 200, 200, 429], 5, "/resolved", "gold-ann");
        Assert.All(await Statuses(6, "/resolved", "staff-sam"), s => Assert.Equal(200, s));
        await Expect([200, 200, 429], 3, "/resolved", "bob");

        await Expect([200, 200, 200, 200, 429], 5, "/tenants/gold/orders", "ann");
        await Expect([200, 200, 429], 3, "/tenants/basic/orders", "bob");

        // The group is one bucket whose plans come from configuration alone: gold holds 3 there.
        int[] group = [await Status("/g/a", "ann", s_gold), await Status("/g/b", "ann", s_gold), await Status("/g/a", "ann", s_gold), await Status("/g/b", "ann", s_gold)];
        Assert.Equal([200, 200, 200, 429], group);

        await Expect([200, 200, 200, 200, 429], 5, "/mvc", "ann", s_gold);
        await Expect([200, 200, 200, 200, 429], 5, "/named", "ann", s_gold);
        await Expect([200, 200, 429], 3, "/named", "bob");
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Beside_another_limit_a_plan_is_decided_with_it_all_or_nothing(Store store)
    {
        await StartAsync(store);

        // Staff skips the api bucket but not the flat one of 3, which alone rejects the fourth request.
        await Expect([200, 200, 200, 429], 4, "/both", "sam", ("X-Plan", "staff"));
        // Gold holds 4 on api but flat holds 3: the fourth is refused by flat and takes nothing from api, which still
        // holds the one token left after three.
        await Expect([200, 200, 200, 429], 4, "/both", "ann", s_gold);
        await Expect([200, 429], 2, "/api", "ann", s_gold);
        using var both = await _instances.Send("GET", "/both", "cat", s_gold);
        Assert.Equal("\"api\";q=4;w=4000, \"flat\";q=3;w=3000", both.Header("RateLimit-Policy"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task An_override_beats_the_plan_and_a_deny_list_beats_an_override(Store store)
    {
        await StartAsync(store);
        // Set as an operator sets them, through one instance's operations service; every instance applies them.
        var apps = _instances.Apps.Cast<ClientsApp>().ToArray();
        var operations = apps[0].App.Services.GetRequiredService<ITokenBucketOperations>();
        await operations.SetOverrideAsync("api", "ann", 3, 0.001, TimeSpan.FromMinutes(5));
        await operations.SetOverrideAsync("api", "mallory", 100, 1, TimeSpan.FromMinutes(5));
        var old = DateTimeOffset.UtcNow.AddMilliseconds(50);
        await operations.SetOverrideAsync("api", "old", 5, 0.001, TimeSpan.FromMilliseconds(50));
        var declared = new TokenBucketPolicy("api", 2, 0.001);
        var waited = Stopwatch.StartNew();
        while (!apps.All(a => a.App.Services.GetRequiredService<ClientOverrides>().TryGet(declared, "ann", out _)))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "every instance applies the overrides");
            await Task.Delay(10);
        }
        if (old - DateTimeOffset.UtcNow is { Ticks: > 0 } left)
        {
            await Task.Delay(left + TimeSpan.FromMilliseconds(10));
        }

        await Expect([200, 200, 200, 429], 4, "/api", "ann", ("X-Plan", "staff"));
        using var ann = await _instances.Send("GET", "/api", "ann");
        Assert.Equal("\"api\";q=3;w=3000", ann.Header("RateLimit-Policy"));
        await Expect([403, 403], 2, "/api", "mallory");
        // An expired override applies no more.
        await Expect([200, 200, 429], 3, "/api", "old");
    }

    [Fact]
    public async Task Plans_and_lists_change_with_configuration_on_reload()
    {
        await StartAsync(Store.InMemory);
        var app = _instances.Apps.Cast<ClientsApp>().Single().App;

        app.Configuration["TokenBuckets:Buckets:api:Plans:gold:Capacity"] = "6";
        app.Configuration["TokenBuckets:Buckets:api:Plans:silver:Capacity"] = "3";
        app.Configuration["TokenBuckets:Buckets:api:Deny:0"] = "bob";
        ((IConfigurationRoot)app.Configuration).Reload();

        await Expect([200, 200, 200, 200, 200, 200, 429], 7, "/api", "ann", s_gold);
        await Expect([200, 200, 200, 429], 4, "/api", "cat", ("X-Plan", "silver"));
        await Expect([403], 1, "/api", "bob");
        // The plans declared in code that configuration leaves alone are kept.
        Assert.All(await Statuses(4, "/api", "sam", ("X-Plan", "staff")), s => Assert.Equal(200, s));
    }

    [Fact]
    public async Task Requests_from_an_exempt_network_skip_every_limit()
    {
        await StartAsync(Store.InMemory, new() { ["ExemptNetworks:0"] = "10.1.0.0/16", ["ExemptNetworks:1"] = "fd00::/8" });
        using var counts = MeterCounts.Decisions(_instances.Apps.Cast<ClientsApp>().Single().App.Services);

        foreach (var address in new[] { "10.1.2.3", "fd00::7", "::ffff:10.1.9.9" })
        {
            Assert.All(await Statuses(4, "/by-ip", "ann", (TestClientAddress.Header, address)), s => Assert.Equal(200, s));
        }
        await Expect([200, 200, 429], 3, "/by-ip", "ann", (TestClientAddress.Header, "10.2.0.1"));
        await Expect([200, 200, 429], 3, "/api", "bob", (TestClientAddress.Header, "10.2.0.1"));
        Assert.All(await Statuses(4, "/api", "bob", (TestClientAddress.Header, "10.1.0.1")), s => Assert.Equal(200, s));
        Assert.Equal(16, counts[RequestResults.Exempt]);
    }

    [Theory]
    [InlineData("ExemptNetworks:0", "10.0.0/8", "TokenBuckets:ExemptNetworks:0 \"10.0.0/8\"")]
    [InlineData("ExemptNetworks:0", "::1/129", "TokenBuckets:ExemptNetworks:0 \"::1/129\"")]
    [InlineData("Buckets:apii:Deny:0", "x", "TokenBuckets:Buckets:apii names no bucket in use")]
    [InlineData("Buckets:by-ip:Plans:gold:Capacity", "5", "TokenBuckets:Buckets:by-ip declares plans, but no limit of bucket 'by-ip' reads the caller's plan")]
    [InlineData("Buckets:api:Plans:gold:Capacity", "0", "TokenBuckets:Buckets:api:Plans:gold:Capacity 0 is invalid")]
    [InlineData("Buckets:api:Plans:gold:Capacit", "5", "TokenBuckets:Buckets:api:Plans:gold:Capacit is not a plan setting")]
    [InlineData("Buckets:api:Exempt", "probe", "TokenBuckets:Buckets:api:Exempt is a list")]
    public async Task A_setting_that_is_malformed_or_would_apply_to_nobody_stops_the_app_naming_it(string setting, string value, string message)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => ClientsApp.StartAsync(null, _instances.Prefix, new() { [setting] = value }));

        Assert.Contains(message, failure.Message);
    }

    [Fact]
    public async Task Plans_declared_in_code_for_a_bucket_nothing_uses_stop_the_app()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ClientsApp.StartAsync(null, _instances.Prefix,
            map: app => app.MapGet("/only", [TokenBucket(capacity: 2, rate: 1, Key = "header:X-User", Bucket = "only")] () => "only")));

        Assert.Contains("AddTokenBucketPlans(\"api\", ...) names no bucket in use", failure.Message);
    }

    [Fact]
    public async Task A_plan_source_that_is_no_plan_source_stops_the_app()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ClientsApp.StartAsync(null, _instances.Prefix,
            map: app =>
            {
                // Read at run time, where the analyzer (RG0019) cannot see it.
                var plan = Environment.GetEnvironmentVariable("RATEGUARD_TEST_UNSET") ?? "user";
                app.MapGet("/api", () => "api").WithMetadata(new TokenBucketAttribute(2, 0.001) { Key = "header:X-User", Bucket = "api", Plan = plan });
                app.MapGet("/resolved", () => "r").WithMetadata(new TokenBucketAttribute(2, 0.001) { Key = "header:X-User", Bucket = "resolved", Plan = "header:X-Plan" });
            }));

        Assert.Contains("Plan \"user\" is not valid. Use " + TokenBucketKey.ValidPlanForms, failure.Message);
    }

    private Task StartAsync(Store store, Dictionary<string, string?>? settings = null) =>
        _instances.StartAsync(store, server => ClientsApp.StartAsync(server, _instances.Prefix, settings), app => app.Client);

    private Task<int> Status(string path, string user, params (string, string)[] headers) => _instances.Status("GET", path, user, headers);

    private async Task<int[]> Statuses(int count, string path, string user, params (string, string)[] headers)
    {
        var statuses = new int[count];
        for (var i = 0; i < count; i++)
        {
            statuses[i] = await Status(path, user, headers);
        }
        return statuses;
    }

    private async Task Expect(int[] expected, int count, string path, string user, params (string, string)[] headers) =>
        Assert.Equal(expected, await Statuses(count, path, user, headers));

    private string[] Keys() => _instances.Keys();
}
