using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using RateGuard.Diagnostics;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Configuration;

public sealed class ProblemWordingTests
{
    private static void Map(WebApplication app)
    {
        app.UseTokenBuckets();
        app.MapGet("/one", [TokenBucket(capacity: 1, rate: 0.01, Bucket = "one")] () => "one");
        app.MapGet("/pricey", [TokenBucket(capacity: 6, rate: 0.5, Cost = 2, Bucket = "pricey")] () => "pricey");
        app.MapGet("/keyed", [TokenBucket(capacity: 1, rate: 0.01, Key = "header:X-Api-Key", Bucket = "keyed")] () => "keyed");
    }

    private static async Task<(string Type, string Title, string Detail)> ProblemAsync(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        return (root.GetProperty("type").GetString()!, root.GetProperty("title").GetString()!, root.GetProperty("detail").GetString()!);
    }

    [Fact]
    public async Task A_rejection_answered_with_503_is_titled_and_typed_as_503()
    {
        await using var app = await ConfiguredApp.StartAsync(new() { ["TokenBuckets:RejectionStatusCode"] = "503" }, Map);

        await app.Client.Statuses("/one", 1);
        using var rejected = await app.Client.Get("/one");

        Assert.Equal(503, (int)rejected.StatusCode);
        var (type, title, _) = await ProblemAsync(rejected);
        Assert.Equal("https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4", type);
        Assert.Equal("Service Unavailable", title);
    }

    [Fact]
    public async Task A_rejection_answered_with_429_keeps_the_rfc_6585_type()
    {
        await using var app = await ConfiguredApp.StartAsync(new(), Map);

        await app.Client.Statuses("/one", 1);
        using var rejected = await app.Client.Get("/one");

        var (type, title, detail) = await ProblemAsync(rejected);
        Assert.Equal("https://www.rfc-editor.org/rfc/rfc6585#section-4", type);
        Assert.Equal("Too Many Requests", title);
        Assert.Equal("Rate limit 'one' exceeded: 1 request, refilled at 0.01 per second. Retry after 100 s.", detail);
    }

    [Fact]
    public async Task A_missing_key_answered_with_401_is_titled_and_typed_as_401()
    {
        await using var app = await ConfiguredApp.StartAsync(new() { ["TokenBuckets:MissingKeyStatusCode"] = "401" }, Map);

        using var rejected = await app.Client.Get("/keyed");

        Assert.Equal(401, (int)rejected.StatusCode);
        var (type, title, _) = await ProblemAsync(rejected);
        Assert.Equal("https://www.rfc-editor.org/rfc/rfc9110#section-15.5.2", type);
        Assert.Equal("Unauthorized", title);
    }

    [Fact]
    public async Task A_status_without_a_specific_problem_type_uses_about_blank_and_its_reason_phrase()
    {
        await using var app = await ConfiguredApp.StartAsync(new() { ["TokenBuckets:RejectionStatusCode"] = "420" }, Map);

        await app.Client.Statuses("/one", 1);
        using var rejected = await app.Client.Get("/one");

        var (type, title, _) = await ProblemAsync(rejected);
        Assert.Equal("about:blank", type);
        Assert.Equal("Status 420", title);
    }

    [Fact]
    public async Task The_detail_speaks_of_tokens_when_a_request_costs_more_than_one()
    {
        await using var app = await ConfiguredApp.StartAsync(new(), Map);

        Assert.Equal(Repeat(200, 3), await app.Client.Statuses("/pricey", 3));
        using var rejected = await app.Client.Get("/pricey");

        var (_, _, detail) = await ProblemAsync(rejected);
        Assert.StartsWith("Rate limit 'pricey' exceeded: 6 tokens, refilled at 0.5 per second, and each request costs 2. Retry after ", detail);
    }

    [Fact]
    public async Task A_route_named_bucket_has_one_name_in_headers_problem_details_and_metrics()
    {
        await using var app = await ConfiguredApp.StartAsync(new(), a =>
        {
            a.UseTokenBuckets();
            a.MapGet("/named/{id:int}", [TokenBucket(capacity: 1, rate: 0.01)] (int id) => id);
        });
        using var decisions = new MetricCollector<long>(app.App.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), TokenBucketMetrics.MeterName, TokenBucketMetrics.RequestsInstrument);

        using var admitted = await app.Client.Get("/named/1");
        using var rejected = await app.Client.Get("/named/2");

        const string name = "GET /named/{id}";
        Assert.Equal($"\"{name}\";q=1;w=100", admitted.Header("RateLimit-Policy"));
        Assert.Equal($"\"{name}\";q=1;w=100", rejected.Header("RateLimit-Policy"));
        var (_, _, detail) = await ProblemAsync(rejected);
        Assert.StartsWith($"Rate limit '{name}' exceeded", detail);
        Assert.Equal([name, name], decisions.GetMeasurementSnapshot().Select(m => (string)m.Tags["rateguard.rate_limiting.policy"]!));
    }
}
