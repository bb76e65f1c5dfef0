using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RateGuard.Integration.Tests.Infrastructure;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Configuration;

public sealed class ConfigurationCheckTests
{
    private static void Map(WebApplication app)
    {
        app.UseTokenBuckets();
        app.MapGet("/items/{id:int}", [TokenBucket(capacity: 4, rate: 0.01)] (int id) => id);
        app.MapGet("/shared", [TokenBucket(capacity: 2, rate: 0.01, Bucket = "shared")] () => "shared");
        app.MapGet("/costly", [TokenBucket(capacity: 10, rate: 1, Cost = 4, Bucket = "costly")] () => "costly");
    }

    [Fact]
    public async Task A_misspelled_setting_stops_startup_naming_the_key_and_the_setting_meant()
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => ConfiguredApp.StartAsync(new() { ["TokenBuckets:Headrs"] = "Legacy" }, Map));

        Assert.Equal(["TokenBuckets:Headrs is not a setting, so it would change nothing: did you mean TokenBuckets:Headers?"], e.Failures);
    }

    [Fact]
    public async Task A_misspelled_bucket_setting_stops_startup_naming_the_key()
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => ConfiguredApp.StartAsync(new() { ["TokenBuckets:Buckets:shared:Capcity"] = "3" }, Map));

        Assert.Equal(["TokenBuckets:Buckets:shared:Capcity is not a bucket setting, so it would change nothing: did you mean TokenBuckets:Buckets:shared:Capacity?"], e.Failures);
    }

    [Fact]
    public async Task A_key_far_from_every_setting_is_refused_with_the_list_of_settings()
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => ConfiguredApp.StartAsync(new() { ["TokenBuckets:Buckets:shared:Burst"] = "3" }, Map));

        Assert.Equal(["TokenBuckets:Buckets:shared:Burst is not a bucket setting, so it would change nothing: the settings are Capacity, Rate, FailureMode, Plans, Exempt, Deny, Mode, Count, MaxCost."], e.Failures);
    }

    [Fact]
    public async Task Settings_are_matched_without_regard_to_case_as_configuration_keys_are()
    {
        await using var app = await ConfiguredApp.StartAsync(new() { ["TokenBuckets:headers"] = "None", ["TokenBuckets:Buckets:shared:capacity"] = "1" }, Map);

        using var response = await app.Client.Get("/shared");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Null(response.Header("RateLimit-Policy"));
        Assert.Equal(Repeat(429, 1), await app.Client.Statuses("/shared", 1));
    }

    [Fact]
    public async Task An_override_for_a_bucket_no_endpoint_declares_is_a_warning_that_lists_the_names_in_use()
    {
        await using var app = await ConfiguredApp.StartAsync(new() { ["TokenBuckets:Buckets:namd:Capacity"] = "3" }, Map);

        var warning = Assert.Single(app.Messages(LogLevel.Warning), m => m.Contains("namd"));
        Assert.Equal(
            "TokenBuckets:Buckets has settings for 'namd', but no bucket of that name is in use, so they change nothing. The buckets are 'costly' (costly), 'GET /items/{id}' (GET_items_id), 'shared' (shared), each shown with the form an environment variable can use. A bucket that only the RateLimiter adapter uses can be declared with services.AddTokenBucketNames(...).",
            warning);
    }

    [Fact]
    public async Task In_Development_an_override_for_an_unknown_bucket_is_an_error()
    {
        await using var app = await ConfiguredApp.StartAsync(new() { ["TokenBuckets:Buckets:namd:Capacity"] = "3" }, Map, environment: "Development");

        Assert.Single(app.Messages(LogLevel.Error), m => m.Contains("'namd'"));
        Assert.DoesNotContain(app.Messages(LogLevel.Warning), m => m.Contains("'namd'"));
    }

    [Fact]
    public async Task A_bucket_declared_for_the_RateLimiter_adapter_is_a_known_name()
    {
        await using var app = await ConfiguredApp.StartAsync(new() { ["TokenBuckets:Buckets:api:Capacity"] = "3" }, Map, services: s => s.AddTokenBucketNames("api"));

        Assert.DoesNotContain(app.Messages(LogLevel.Warning), m => m.Contains("'api'"));
    }

    [Fact]
    public async Task A_route_named_bucket_is_overridden_from_an_environment_variable_in_its_environment_form()
    {
        var variable = "RGCONFIGTEST_" + Guid.NewGuid().ToString("N")[..8] + "_";
        Environment.SetEnvironmentVariable(variable + "TokenBuckets__Buckets__GET_items_id__Capacity", "2");
        try
        {
            await using var app = await ConfiguredApp.StartAsync(new(), Map, configuration: c => c.AddEnvironmentVariables(variable));

            using var first = await app.Client.Get("/items/1");
            Assert.Equal("\"GET /items/{id}\";q=2;w=200", first.Header("RateLimit-Policy"));
            Assert.Equal(Repeat(200, 1).Then(429), await app.Client.Statuses("/items/2", 2));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable + "TokenBuckets__Buckets__GET_items_id__Capacity", null);
        }
    }

    [Fact]
    public async Task An_environment_form_that_names_two_buckets_stops_startup_naming_both()
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => ConfiguredApp.StartAsync(new() { ["TokenBuckets:Buckets:GET_items_id:Capacity"] = "2" }, app =>
        {
            app.UseTokenBuckets();
            app.MapGet("/items/{id}", [TokenBucket(capacity: 4, rate: 1)] (string id) => id);
            app.MapGet("/items/id", [TokenBucket(capacity: 4, rate: 1)] () => "the id");
        }));

        Assert.Contains("TokenBuckets:Buckets:GET_items_id names 2 buckets ('GET /items/id', 'GET /items/{id}'); write the exact name of the one it is for.", e.ToString());
    }

    [Fact]
    public async Task A_reload_with_a_misspelled_key_is_refused_whole_and_logged()
    {
        await using var app = await ConfiguredApp.StartAsync(new(), Map);

        app.Reload(new() { ["TokenBuckets:Buckets:shared:Capacity"] = "6", ["TokenBuckets:Headrs"] = "Legacy" });

        using var shared = await app.Client.Get("/shared", (TestClientAddress.Header, "192.0.2.20"));
        Assert.Equal("\"shared\";q=2;w=200", shared.Header("RateLimit-Policy"));
        var error = Assert.Single(app.Messages(LogLevel.Error));
        Assert.Equal("The token-bucket configuration changed, but the new settings are invalid, so none of them apply; the previous settings stay in force. TokenBuckets:Headrs is not a setting, so it would change nothing: did you mean TokenBuckets:Headers?", error);
    }

    [Fact]
    public async Task A_reload_with_a_value_that_cannot_be_read_is_refused_whole_and_logged()
    {
        await using var app = await ConfiguredApp.StartAsync(new(), Map);

        app.Reload(new() { ["TokenBuckets:Buckets:shared:Capacity"] = "6", ["TokenBuckets:Timeout"] = "soon" });

        using var shared = await app.Client.Get("/shared", (TestClientAddress.Header, "192.0.2.23"));
        Assert.Equal("\"shared\";q=2;w=200", shared.Header("RateLimit-Policy"));
        var error = Assert.Single(app.Messages(LogLevel.Error));
        Assert.StartsWith("The token-bucket configuration changed, but the new settings are invalid, so none of them apply;", error);
        Assert.Contains("TokenBuckets:Timeout", error);
    }

    [Fact]
    public async Task A_reload_with_one_impossible_override_is_refused_whole_and_logged()
    {
        await using var app = await ConfiguredApp.StartAsync(new(), Map);

        app.Reload(new() { ["TokenBuckets:Buckets:costly:Capacity"] = "3", ["TokenBuckets:Buckets:shared:Capacity"] = "6" });

        using var shared = await app.Client.Get("/shared", (TestClientAddress.Header, "192.0.2.21"));
        using var costly = await app.Client.Get("/costly", (TestClientAddress.Header, "192.0.2.21"));
        Assert.Equal("\"shared\";q=2;w=200", shared.Header("RateLimit-Policy"));
        Assert.Equal("\"costly\";q=10;w=10", costly.Header("RateLimit-Policy"));
        Assert.Contains(app.Messages(LogLevel.Error), m => m.Contains("TokenBuckets:Buckets:costly:Capacity 3 is invalid with a cost of 4 tokens per request"));
    }

    [Fact]
    public async Task A_valid_reload_applies_whole_and_an_unknown_bucket_in_it_is_reported_again()
    {
        await using var app = await ConfiguredApp.StartAsync(new(), Map);

        app.Reload(new() { ["TokenBuckets:Buckets:shared:Capacity"] = "6", ["TokenBuckets:Buckets:shraed:Capacity"] = "6" });

        using var shared = await app.Client.Get("/shared", (TestClientAddress.Header, "192.0.2.22"));
        Assert.Equal("\"shared\";q=6;w=600", shared.Header("RateLimit-Policy"));
        Assert.Single(app.Messages(LogLevel.Warning), m => m.Contains("'shraed'"));
    }
}
