using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace RateGuard.Integration.Tests.Interop;

/// <summary>
/// The documents Swashbuckle serves, with RateGuard.Swashbuckle's <c>AddTokenBucketSwaggerGen()</c> and without it,
/// for minimal APIs and controllers in one app, as a Swashbuckle app is set up: <c>AddEndpointsApiExplorer()</c>,
/// <c>AddSwaggerGen()</c>, <c>UseSwagger()</c>.
/// </summary>
public sealed class SwashbuckleTests
{
    private static readonly string[] s_draftRejected = ["RateLimit: string", "RateLimit-Policy: string", "Retry-After: integer"];
    private static readonly string[] s_draftAdmitted = ["RateLimit: string", "RateLimit-Policy: string"];

    [Fact]
    public async Task Every_limited_minimal_api_and_controller_operation_documents_Retry_After_RateLimit_and_RateLimit_Policy_on_its_429_with_schema_and_description()
    {
        var paths = await PathsAsync(configure: null, MapMinimalAndControllers);

        foreach (var path in new[] { "/limited", "/fluent", "/group/inherited", "/ping", "/reports/daily", "/reports/expensive", "/api-key" })
        {
            var tooMany = Responses(paths, path).GetProperty("429");
            Assert.True(tooMany.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{path}: {tooMany}");
            Assert.Equal(s_draftRejected, HeaderTypes(tooMany));
            foreach (var header in tooMany.GetProperty("headers").EnumerateObject())
            {
                Assert.False(string.IsNullOrWhiteSpace(header.Value.GetProperty("description").GetString()), $"{path}: {header}");
            }
        }
        var retryAfter = Responses(paths, "/limited").GetProperty("429").GetProperty("headers").GetProperty("Retry-After");
        Assert.Equal(1, retryAfter.GetProperty("schema").GetProperty("minimum").GetInt32());
        Assert.StartsWith("Seconds until the request can be admitted", retryAfter.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("\"<bucket>\";q=<capacity in tokens>;w=<seconds an empty bucket takes to fill>",
            Responses(paths, "/ping").GetProperty("429").GetProperty("headers").GetProperty("RateLimit-Policy").GetProperty("description").GetString());
    }

    [Fact]
    public async Task Each_success_response_of_a_limited_operation_documents_RateLimit_and_RateLimit_Policy_and_the_missing_key_response_none()
    {
        var paths = await PathsAsync(configure: null, MapMinimalAndControllers);

        foreach (var path in new[] { "/limited", "/fluent", "/group/inherited", "/ping", "/reports/daily", "/api-key" })
        {
            Assert.Equal(s_draftAdmitted, HeaderTypes(Responses(paths, path).GetProperty("200")));
        }
        var created = paths.GetProperty("/created").GetProperty("post").GetProperty("responses");
        Assert.Equal(s_draftAdmitted, HeaderTypes(created.GetProperty("200")));
        Assert.Equal(s_draftAdmitted, HeaderTypes(created.GetProperty("201")));
        Assert.Equal(s_draftRejected, HeaderTypes(created.GetProperty("429")));
        // A request without a key is answered before any bucket is consulted, so without rate-limit headers.
        foreach (var forbidden in new[] { created.GetProperty("403"), Responses(paths, "/reports/daily").GetProperty("403"), Responses(paths, "/api-key").GetProperty("403") })
        {
            Assert.True(forbidden.GetProperty("content").TryGetProperty("application/problem+json", out _), forbidden.ToString());
            Assert.Empty(HeaderTypes(forbidden));
        }
    }

    [Fact]
    public async Task Unlimited_and_opted_out_operations_document_no_rate_limit_header_and_no_429()
    {
        var paths = await PathsAsync(configure: null, MapMinimalAndControllers);

        foreach (var path in new[] { "/open", "/group/opted-out", "/group/opted-out-by-attribute", "/reports/health" })
        {
            var responses = Responses(paths, path);
            Assert.Equal(["200"], responses.EnumerateObject().Select(r => r.Name));
            Assert.Empty(HeaderTypes(responses.GetProperty("200")));
        }
    }

    [Fact]
    public async Task The_legacy_style_documents_the_X_RateLimit_headers_the_runtime_writes_instead_of_the_draft_fields()
    {
        var paths = await PathsAsync(o => o.Headers = RateLimitHeaderStyle.Legacy, MapMinimalAndControllers);

        string[] legacy =
        [
            "X-RateLimit-Burst-Capacity: integer",
            "X-RateLimit-Remaining: integer",
            "X-RateLimit-Replenish-Rate: number",
            "X-RateLimit-Requested-Tokens: integer",
        ];
        foreach (var path in new[] { "/limited", "/ping" })
        {
            Assert.Equal(["Retry-After: integer", .. legacy], HeaderTypes(Responses(paths, path).GetProperty("429")));
            Assert.Equal(legacy, HeaderTypes(Responses(paths, path).GetProperty("200")));
        }
    }

    [Fact]
    public async Task The_None_style_documents_only_Retry_After_on_the_429_and_no_header_on_success()
    {
        var paths = await PathsAsync(o => o.Headers = RateLimitHeaderStyle.None, MapMinimalAndControllers);

        foreach (var path in new[] { "/limited", "/ping" })
        {
            Assert.Equal(["Retry-After: integer"], HeaderTypes(Responses(paths, path).GetProperty("429")));
            Assert.Empty(HeaderTypes(Responses(paths, path).GetProperty("200")));
        }
    }

    [Fact]
    public async Task A_configured_rejection_status_is_documented_with_the_headers_in_place_of_the_429()
    {
        var paths = await PathsAsync(o => o.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable, MapMinimalAndControllers);

        foreach (var path in new[] { "/limited", "/ping" })
        {
            var responses = Responses(paths, path);
            Assert.False(responses.TryGetProperty("429", out _), responses.ToString());
            Assert.True(responses.GetProperty("503").GetProperty("content").TryGetProperty("application/problem+json", out _), responses.ToString());
            Assert.Equal(s_draftRejected, HeaderTypes(responses.GetProperty("503")));
        }
    }

    [Fact]
    public async Task The_headers_are_described_as_RateGuard_OpenApi_describes_them_in_the_same_app()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets();
        builder.Services.AddOpenApi();
        builder.Services.AddTokenBucketOpenApi();
        builder.Services.AddSwaggerGen();
        builder.Services.AddTokenBucketSwaggerGen();
        await using var app = builder.Build();
        app.UseTokenBuckets();
        app.MapOpenApi();
        app.UseSwagger();
        app.MapGet("/limited", [TokenBucket(10, 5)] () => "ok");
        await app.StartAsync();

        using var swagger = JsonDocument.Parse(await app.GetTestClient().GetStringAsync("/swagger/v1/swagger.json"));
        using var openApi = JsonDocument.Parse(await app.GetTestClient().GetStringAsync("/openapi/v1.json"));
        foreach (var status in new[] { "200", "429" })
        {
            var fromSwashbuckle = Responses(swagger.RootElement.GetProperty("paths"), "/limited").GetProperty(status).GetProperty("headers");
            var fromOpenApi = Responses(openApi.RootElement.GetProperty("paths"), "/limited").GetProperty(status).GetProperty("headers");
            Assert.Equal(fromOpenApi.EnumerateObject().Select(h => h.Name), fromSwashbuckle.EnumerateObject().Select(h => h.Name));
            foreach (var header in fromOpenApi.EnumerateObject())
            {
                Assert.Equal(header.Value.GetProperty("description").GetString(), fromSwashbuckle.GetProperty(header.Name).GetProperty("description").GetString());
                Assert.Equal(header.Value.GetProperty("schema").ToString(), fromSwashbuckle.GetProperty(header.Name).GetProperty("schema").ToString());
            }
        }
    }

    [Fact]
    public async Task Every_document_gets_the_headers_whichever_of_AddSwaggerGen_and_AddTokenBucketSwaggerGen_comes_first_and_a_second_call_adds_no_second_filter()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets();
        builder.Services.AddTokenBucketSwaggerGen();
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new() { Title = "public" });
            o.SwaggerDoc("internal", new() { Title = "internal" });
        });
        builder.Services.AddTokenBucketSwaggerGen();
        await using var app = builder.Build();
        app.UseTokenBuckets();
        app.UseSwagger();
        app.MapGet("/limited", [TokenBucket(10, 5)] () => "ok");
        await app.StartAsync();

        foreach (var name in new[] { "v1", "internal" })
        {
            using var document = JsonDocument.Parse(await app.GetTestClient().GetStringAsync($"/swagger/{name}/swagger.json"));
            var responses = Responses(document.RootElement.GetProperty("paths"), "/limited");
            Assert.Equal(s_draftRejected, HeaderTypes(responses.GetProperty("429")));
            Assert.Equal(s_draftAdmitted, HeaderTypes(responses.GetProperty("200")));
        }
        var filters = app.Services.GetRequiredService<IOptions<SwaggerGeneratorOptions>>().Value.OperationFilters;
        Assert.Single(filters, f => f.GetType().Assembly.GetName().Name == "RateGuard.Swashbuckle");
    }

    [Fact]
    public async Task Without_AddTokenBucketSwaggerGen_the_429_and_403_are_still_documented_through_API_Explorer_without_their_headers()
    {
        var paths = await PathsAsync(configure: null, MapMinimalAndControllers, addHeaders: false);

        foreach (var path in new[] { "/limited", "/api-key", "/reports/daily" })
        {
            var responses = Responses(paths, path);
            Assert.True(responses.GetProperty("429").GetProperty("content").TryGetProperty("application/problem+json", out _), $"{path}: {responses}");
            Assert.Empty(HeaderTypes(responses.GetProperty("429")));
            Assert.Empty(HeaderTypes(responses.GetProperty("200")));
        }
        foreach (var path in new[] { "/api-key", "/reports/daily" })
        {
            var responses = Responses(paths, path);
            Assert.True(responses.GetProperty("403").GetProperty("content").TryGetProperty("application/problem+json", out _), $"{path}: {responses}");
            Assert.Empty(HeaderTypes(responses.GetProperty("403")));
        }
    }

    // Minimal APIs limited by attribute, by RequireTokenBucket and through their group, one open and two opted out,
    // beside the MVC sample's controllers.
    private static void MapMinimalAndControllers(WebApplication app)
    {
        app.MapGet("/limited", [TokenBucket(10, 5)] () => "ok");
        app.MapGet("/fluent", () => "ok").RequireTokenBucket(10, 5);
        app.MapPost("/created", [TokenBucket(10, 5, Key = "header:X-Api-Key")] Results<Created, Ok<string>> () => TypedResults.Created("/created/1"));
        app.MapGet("/open", () => "ok");
        var group = app.MapGroup("/group").RequireTokenBucket(10, 5);
        group.MapGet("/inherited", () => "ok");
        group.MapGet("/opted-out", () => "ok").DisableTokenBucket();
        group.MapGet("/opted-out-by-attribute", [DisableTokenBucket] () => "ok");
        app.MapControllers();
    }

    // Each documented header of a response as "name: schema type", in ordinal order of the names; empty when it documents none.
    private static string[] HeaderTypes(JsonElement response) =>
        response.TryGetProperty("headers", out var headers)
            ? [.. headers.EnumerateObject().OrderBy(h => h.Name, StringComparer.Ordinal).Select(h => $"{h.Name}: {h.Value.GetProperty("schema").GetProperty("type").GetString()}")]
            : [];

    private static JsonElement Responses(JsonElement paths, string path) =>
        paths.GetProperty(path).GetProperty("get").GetProperty("responses");

    // Starts an app with the endpoints that map adds, and the MVC sample's controllers and only those (so the document
    // does not depend on which test controllers exist), and returns the paths of the document Swashbuckle serves.
    private static async Task<JsonElement> PathsAsync(Action<TokenBucketOptions>? configure, Action<WebApplication> map, bool addHeaders = true)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets(configure);
        builder.Services.AddControllers().ConfigureApplicationPartManager(parts =>
        {
            parts.ApplicationParts.Clear();
            parts.ApplicationParts.Add(new AssemblyPart(typeof(MvcSample.SampleMarker).Assembly));
        });
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen();
        if (addHeaders)
        {
            builder.Services.AddTokenBucketSwaggerGen();
        }
        await using var app = builder.Build();
        app.UseTokenBuckets();
        app.UseSwagger();
        map(app);
        await app.StartAsync();
        using var document = JsonDocument.Parse(await app.GetTestClient().GetStringAsync("/swagger/v1/swagger.json"));
        return document.RootElement.GetProperty("paths").Clone();
    }
}
