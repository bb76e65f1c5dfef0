using Microsoft.Extensions.Configuration;
using RateGuard.Integration.Tests.Infrastructure;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Resilience;

public sealed class OverrideAndKeyTests
{
    [Fact]
    public async Task A_named_buckets_capacity_comes_from_configuration_at_startup_and_on_reload()
    {
        await using var app = await ResilienceApp.StartAsync(new() { ["TokenBuckets:Buckets:shared:Capacity"] = "3" });

        Assert.Equal(Repeat(200, 3).Then(429), await app.Client.Statuses("/shared/a", 4, (TestClientAddress.Header, "192.0.2.1")));

        app.App.Configuration["TokenBuckets:Buckets:shared:Capacity"] = "6";
        app.App.Configuration["TokenBuckets:Buckets:shared:Rate"] = "0.02";
        ((IConfigurationRoot)app.App.Configuration).Reload();

        Assert.Equal(Repeat(200, 6).Then(429), await app.Client.Statuses("/shared/b", 7, (TestClientAddress.Header, "192.0.2.2")));
        using var response = await app.Client.Get("/shared/a", (TestClientAddress.Header, "192.0.2.3"));
        Assert.Equal("\"shared\";q=6;w=300", response.Header("RateLimit-Policy"));
    }

    [Fact]
    public async Task An_invalid_override_stops_startup_naming_the_bucket()
    {
        var e = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => ResilienceApp.StartAsync(new() { ["TokenBuckets:Buckets:shared:Capacity"] = "0" }));

        Assert.Contains("TokenBuckets:Buckets:shared:Capacity 0 is invalid: " + LimitRules.Capacity, e.Message);
    }

    [Fact]
    public async Task An_override_that_leaves_a_request_costing_more_than_the_capacity_stops_startup()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => ResilienceApp.StartAsync(new() { ["TokenBuckets:Buckets:costly:Capacity"] = "3" }));

        Assert.Contains("TokenBuckets:Buckets:costly:Capacity 3 is invalid with a cost of 4 tokens per request: " + LimitRules.CostWithinCapacity, e.ToString());
    }

    [Fact]
    public async Task A_sweep_interval_a_timer_cannot_take_is_refused_at_startup()
    {
        var e = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => ResilienceApp.StartAsync(new() { ["TokenBuckets:InMemorySweepInterval"] = "60.00:00:00" }));

        Assert.Contains("TokenBuckets:InMemorySweepInterval must be positive and at most a day", e.Message);
    }

    [Fact]
    public async Task Ipv6_clients_are_grouped_by_their_64_bit_prefix_by_default()
    {
        await using var app = await ResilienceApp.StartAsync([]);

        var first = await app.Client.Statuses("/limited", 3, (TestClientAddress.Header, "2001:db8:1:2::10"));
        var sameNetwork = await app.Client.Statuses("/limited", 3, (TestClientAddress.Header, "2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
        var otherNetwork = await app.Client.Statuses("/limited", 1, (TestClientAddress.Header, "2001:db8:1:3::10"));

        Assert.Equal([.. first, .. sameNetwork], Repeat(200, 5).Then(429));
        Assert.Equal([200], otherNetwork);
    }

    [Fact]
    public async Task Ipv6_grouping_can_be_narrowed_to_single_addresses()
    {
        await using var app = await ResilienceApp.StartAsync(new() { ["TokenBuckets:IPv6PrefixLength"] = "128" });

        var first = await app.Client.Statuses("/limited", 5, (TestClientAddress.Header, "2001:db8:1:2::10"));
        var neighbour = await app.Client.Statuses("/limited", 1, (TestClientAddress.Header, "2001:db8:1:2::11"));

        Assert.Equal(Repeat(200, 5), first);
        Assert.Equal([200], neighbour);
    }
}
