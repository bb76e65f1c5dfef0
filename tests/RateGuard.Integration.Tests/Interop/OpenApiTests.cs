using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace RateGuard.Integration.Tests.Interop;

public sealed class OpenApiTests
{
    [Fact]
    public async Task The_openapi_document_lists_the_429_problem_of_every_limited_endpoint_and_not_of_open_or_opted_out_ones()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets();
        builder.Services.AddOpenApi();
        await using var app = builder.Build();
        app.UseTokenBuckets();
        app.MapOpenApi();
        app.MapGet("/limited", [TokenBucket(capacity: 10, rate: 5)] () => "ok");
        app.MapGet("/fluent", () => "ok").RequireTokenBucket(10, 5);
        app.MapGet("/open", () => "ok");
        var group = app.MapGroup("/group").RequireTokenBucket(10, 5);
        group.MapGet("/inherited", () => "ok");
        group.MapGet("/opted-out", () => "ok").DisableTokenBucket();
        group.MapGet("/opted-out-by-attribute", [DisableTokenBucket] () => "ok");
        await app.StartAsync();

        using var document = JsonDocument.Parse(await app.GetTestClient().GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");

        foreach (var path in new[] { "/limited", "/fluent", "/group/inherited" })
        {
            var tooMany = paths.GetProperty(path).GetProperty("get").GetProperty("responses").GetProperty("429");
            Assert.True(tooMany.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{path}: {tooMany}");
        }
        foreach (var path in new[] { "/open", "/group/opted-out", "/group/opted-out-by-attribute" })
        {
            Assert.False(paths.GetProperty(path).GetProperty("get").GetProperty("responses").TryGetProperty("429", out _), path);
        }
    }
}
