using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace RateGuard.Integration.Tests.Interop;

public sealed class OpenApiTests
{
    [Fact]
    public async Task The_openapi_document_lists_the_429_problem_of_every_limited_endpoint_and_only_those()
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
        await app.StartAsync();

        using var document = JsonDocument.Parse(await app.GetTestClient().GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");

        foreach (var path in new[] { "/limited", "/fluent" })
        {
            var tooMany = paths.GetProperty(path).GetProperty("get").GetProperty("responses").GetProperty("429");
            Assert.True(tooMany.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{path}: {tooMany}");
        }
        Assert.False(paths.GetProperty("/open").GetProperty("get").GetProperty("responses").TryGetProperty("429", out _));
    }
}
