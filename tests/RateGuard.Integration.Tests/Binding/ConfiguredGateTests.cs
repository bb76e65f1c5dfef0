using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Http;
using RateGuard.Integration.Tests.Resilience;

namespace RateGuard.Integration.Tests.Binding;

/// <summary>
/// A gate is built once, complete, from its attribute and the options in force; what configuration says of its bucket
/// is kept beside it, and a reload builds anew rather than change what a request may be reading.
/// </summary>
public sealed class ConfiguredGateTests
{
    [Fact]
    public async Task An_override_is_kept_beside_the_gate_and_a_reload_builds_new_gates_while_the_old_ones_keep_their_values()
    {
        await using var app = await ResilienceApp.StartAsync(new()
        {
            ["TokenBuckets:Buckets:shared:Capacity"] = "3",
            ["TokenBuckets:Buckets:shared:FailureMode"] = "Closed",
        });
        var before = Single(app, "/shared/a");

        app.App.Configuration["TokenBuckets:Buckets:shared:Capacity"] = "6";
        app.App.Configuration["TokenBuckets:Buckets:shared:FailureMode"] = "Open";
        ((IConfigurationRoot)app.App.Configuration).Reload();
        var after = Single(app, "/shared/a");

        Assert.Equal(("shared (capacity 3, rate 0.01/s, cost 1)", FailureMode.Closed), (before.Policy.ToString(), before.FailureMode));
        Assert.Equal(("shared (capacity 6, rate 0.01/s, cost 1)", FailureMode.Open), (after.Policy.ToString(), after.FailureMode));
        Assert.Equal("shared (capacity 2, rate 0.01/s, cost 1)", before.Gate.Policy.ToString());
        Assert.Equal("shared (capacity 2, rate 0.01/s, cost 1)", after.Gate.Policy.ToString());
        Assert.NotSame(before.Gate, after.Gate);
    }

    [Fact]
    public async Task A_generated_gate_groups_IPv6_clients_by_the_prefix_length_configured_when_it_was_built()
    {
        await using var app = await ResilienceApp.StartAsync(new() { ["TokenBuckets:IPv6PrefixLength"] = "48" });
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse("2001:db8:1:2:3:4:5:6");

        var gate = Single(app, "/limited").Gate;

        Assert.Equal("RateGuard.Generated", gate.GetType().Namespace);
        Assert.Equal("2001:db8:1::/48", gate.GetPartitionKey(context));
    }

    private static ConfiguredGate Single(ResilienceApp app, string path)
    {
        var table = app.App.Services.GetRequiredService<EndpointGateTable>();
        var endpoint = app.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Single(e => e.RoutePattern.RawText == path);
        return Assert.Single(table.Get(endpoint)!.Gates);
    }
}
