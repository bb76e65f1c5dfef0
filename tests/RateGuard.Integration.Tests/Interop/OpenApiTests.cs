using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
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

    [Fact]
    public async Task Header_query_claim_anonymous_user_resolver_and_optional_route_keys_document_the_403_missing_key_problem()
    {
        var paths = await PathsAsync(configure: null, app =>
        {
            app.MapGet("/header", () => "ok").RequireTokenBucket(10, 5, key: "header:X-Api-Key");
            app.MapGet("/query", () => "ok").RequireTokenBucket(10, 5, key: "query:tenant");
            app.MapGet("/claim", () => "ok").RequireTokenBucket(10, 5, key: "claim:tenant").RequireAuthorization();
#pragma warning disable RG0007 // an endpoint anonymous callers reach is what this documents
            app.MapGet("/user", () => "ok").RequireTokenBucket(10, 5, key: "user");
#pragma warning restore RG0007
            app.MapGet("/resolver", [TokenBucket(10, 5, KeyResolver = typeof(ClientKey))] () => "ok");
            app.MapGet("/pages/{page?}", (int? page) => "ok").RequireTokenBucket(10, 5, key: "route:page");
            app.MapGet("/files/{*path}", (string? path) => "ok").RequireTokenBucket(10, 5, key: "route:path");
        });

        foreach (var path in new[] { "/header", "/query", "/claim", "/user", "/resolver", "/pages/{page}", "/files/{path}" })
        {
            var forbidden = Responses(paths, path).GetProperty("403");
            Assert.True(forbidden.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{path}: {forbidden}");
        }
        Assert.Equal("The request has no value for the rate-limit key header:X-Api-Key.", Responses(paths, "/header").GetProperty("403").GetProperty("description").GetString());
        Assert.Equal("The request has no value for the rate-limit key ClientKey.", Responses(paths, "/resolver").GetProperty("403").GetProperty("description").GetString());
    }

    [Fact]
    public async Task A_user_key_on_an_endpoint_that_requires_authorization_documents_no_403_because_authorization_answers_first()
    {
        var paths = await PathsAsync(configure: null, app =>
        {
            app.MapGet("/me", () => "ok").RequireTokenBucket(10, 5, key: "user").RequireAuthorization();
#pragma warning disable RG0007 // an endpoint anonymous callers reach is what this documents
            app.MapGet("/me/open", () => "ok").RequireTokenBucket(10, 5, key: "user").RequireAuthorization().AllowAnonymous();
#pragma warning restore RG0007
        });

        Assert.False(Responses(paths, "/me").TryGetProperty("403", out _), Responses(paths, "/me").ToString());
        Assert.True(Responses(paths, "/me/open").TryGetProperty("403", out _), Responses(paths, "/me/open").ToString());
    }

    [Fact]
    public async Task Ip_global_and_route_keys_that_always_have_a_value_document_no_403()
    {
        var paths = await PathsAsync(configure: null, app =>
        {
            app.MapGet("/ip", () => "ok").RequireTokenBucket(10, 5, key: "ip");
            app.MapGet("/global", () => "ok").RequireTokenBucket(10, 5, key: "global");
            app.MapGet("/tenants/{tenant}", (string tenant) => "ok").RequireTokenBucket(10, 5, key: "route:tenant");
            app.MapGet("/pages/{page=1}", (int page) => "ok").RequireTokenBucket(10, 5, key: "route:page");
        });

        foreach (var path in new[] { "/ip", "/global", "/tenants/{tenant}", "/pages/{page}" })
        {
            var responses = Responses(paths, path);
            Assert.True(responses.TryGetProperty("429", out _), $"{path}: {responses}");
            Assert.False(responses.TryGetProperty("403", out _), $"{path}: {responses}");
        }
    }

    [Fact]
    public async Task The_403_names_every_key_a_request_can_lack_and_only_those()
    {
        var paths = await PathsAsync(configure: null, app =>
            app.MapGet("/stacked", [TokenBucket(10, 5, Key = "header:X-A")][TokenBucket(10, 5)][TokenBucket(10, 5, Key = "query:b")] () => "ok"));

        Assert.Equal("The request has no value for one of the rate-limit keys header:X-A, query:b.", Responses(paths, "/stacked").GetProperty("403").GetProperty("description").GetString());
    }

    [Fact]
    public async Task MissingKey_Admit_documents_no_403_because_a_request_without_a_key_is_let_through()
    {
        var paths = await PathsAsync(o => o.MissingKey = MissingKeyBehavior.Admit, app =>
            app.MapGet("/header", () => "ok").RequireTokenBucket(10, 5, key: "header:X-Api-Key"));

        var responses = Responses(paths, "/header");
        Assert.False(responses.TryGetProperty("403", out _), responses.ToString());
        Assert.True(responses.TryGetProperty("429", out _), responses.ToString());
    }

    [Fact]
    public async Task The_missing_key_problem_is_documented_under_the_configured_MissingKeyStatusCode()
    {
        var paths = await PathsAsync(o => o.MissingKeyStatusCode = StatusCodes.Status401Unauthorized, app =>
            app.MapGet("/header", () => "ok").RequireTokenBucket(10, 5, key: "header:X-Api-Key"));

        var responses = Responses(paths, "/header");
        Assert.True(responses.GetProperty("401").GetProperty("content").TryGetProperty("application/problem+json", out _), responses.ToString());
        Assert.False(responses.TryGetProperty("403", out _), responses.ToString());
    }

    [Fact]
    public async Task An_endpoint_opted_out_of_its_groups_key_gets_no_403_and_no_429_and_its_own_ip_limit_only_the_429()
    {
        var paths = await PathsAsync(configure: null, app =>
        {
            var group = app.MapGroup("/keyed").RequireTokenBucket(10, 5, key: "header:X-Api-Key");
            group.MapGet("/opted-out", () => "ok").DisableTokenBucket();
            group.MapGet("/own-limit", [DisableTokenBucket][TokenBucket(10, 5)] () => "ok");
        });

        var optedOut = Responses(paths, "/keyed/opted-out");
        Assert.False(optedOut.TryGetProperty("403", out _), optedOut.ToString());
        Assert.False(optedOut.TryGetProperty("429", out _), optedOut.ToString());
        var ownLimit = Responses(paths, "/keyed/own-limit");
        Assert.False(ownLimit.TryGetProperty("403", out _), ownLimit.ToString());
        Assert.True(ownLimit.TryGetProperty("429", out _), ownLimit.ToString());
    }

    [Fact]
    public async Task Mvc_actions_document_the_403_for_keys_a_request_can_lack_including_the_controllers_own_limit()
    {
        var paths = await PathsAsync(configure: null, app => app.MapControllers(), SampleControllersOnly);

        foreach (var path in new[] { "/api-key", "/search", "/tenant-report", "/client", "/reports/daily", "/reports/expensive" })
        {
            var responses = Responses(paths, path);
            Assert.True(responses.TryGetProperty("403", out _), $"{path}: {responses}");
            Assert.True(responses.TryGetProperty("429", out _), $"{path}: {responses}");
        }
        // /me keys on the user and requires authorization, which answers an anonymous caller first.
        foreach (var path in new[] { "/ping", "/global", "/tenants/{tenant}/orders", "/shared/a", "/me" })
        {
            var responses = Responses(paths, path);
            Assert.False(responses.TryGetProperty("403", out _), $"{path}: {responses}");
            Assert.True(responses.TryGetProperty("429", out _), $"{path}: {responses}");
        }
        var health = Responses(paths, "/reports/health");
        Assert.False(health.TryGetProperty("403", out _), health.ToString());
        Assert.False(health.TryGetProperty("429", out _), health.ToString());
    }

    [Fact]
    public async Task The_draft_style_documents_Retry_After_RateLimit_and_RateLimit_Policy_on_the_429_and_RateLimit_and_RateLimit_Policy_on_each_success()
    {
        var paths = await PathsAsync(configure: null, app =>
        {
            app.MapGet("/limited", [TokenBucket(10, 5)] () => "ok");
            app.MapPost("/created", [TokenBucket(10, 5, Key = "header:X-Api-Key")] Results<Created, Ok<string>> () => TypedResults.Created("/created/1"));
        });

        Assert.Equal(["RateLimit: string", "RateLimit-Policy: string", "Retry-After: integer"], HeaderTypes(Responses(paths, "/limited").GetProperty("429")));
        Assert.Equal(["RateLimit: string", "RateLimit-Policy: string"], HeaderTypes(Responses(paths, "/limited").GetProperty("200")));
        var created = paths.GetProperty("/created").GetProperty("post").GetProperty("responses");
        Assert.Equal(["RateLimit: string", "RateLimit-Policy: string"], HeaderTypes(created.GetProperty("200")));
        Assert.Equal(["RateLimit: string", "RateLimit-Policy: string"], HeaderTypes(created.GetProperty("201")));
        Assert.Equal(["RateLimit: string", "RateLimit-Policy: string", "Retry-After: integer"], HeaderTypes(created.GetProperty("429")));
        // A request without a key is answered before any bucket is consulted, so without rate-limit headers.
        Assert.Empty(HeaderTypes(created.GetProperty("403")));
        var retryAfter = Responses(paths, "/limited").GetProperty("429").GetProperty("headers").GetProperty("Retry-After");
        Assert.Equal(1, retryAfter.GetProperty("schema").GetProperty("minimum").GetInt32());
        Assert.Contains("\"<bucket>\";q=<capacity in tokens>;w=<seconds an empty bucket takes to fill>",
            Responses(paths, "/limited").GetProperty("200").GetProperty("headers").GetProperty("RateLimit-Policy").GetProperty("description").GetString());
    }

    [Fact]
    public async Task The_legacy_style_documents_the_X_RateLimit_headers_the_runtime_writes_instead_of_the_draft_fields()
    {
        var paths = await PathsAsync(o => o.Headers = RateLimitHeaderStyle.Legacy, app =>
            app.MapGet("/limited", [TokenBucket(10, 0.5)] () => "ok"));

        string[] legacy =
        [
            "X-RateLimit-Burst-Capacity: integer",
            "X-RateLimit-Remaining: integer",
            "X-RateLimit-Replenish-Rate: number",
            "X-RateLimit-Requested-Tokens: integer",
        ];
        Assert.Equal(["Retry-After: integer", .. legacy], HeaderTypes(Responses(paths, "/limited").GetProperty("429")));
        Assert.Equal(legacy, HeaderTypes(Responses(paths, "/limited").GetProperty("200")));
    }

    [Fact]
    public async Task The_None_style_documents_only_Retry_After_on_the_429_and_no_header_on_success()
    {
        var paths = await PathsAsync(o => o.Headers = RateLimitHeaderStyle.None, app =>
            app.MapGet("/limited", [TokenBucket(10, 5)] () => "ok"));

        Assert.Equal(["Retry-After: integer"], HeaderTypes(Responses(paths, "/limited").GetProperty("429")));
        Assert.False(Responses(paths, "/limited").GetProperty("200").TryGetProperty("headers", out _), Responses(paths, "/limited").ToString());
    }

    [Fact]
    public async Task A_configured_rejection_status_is_documented_with_the_headers_in_place_of_the_429()
    {
        var paths = await PathsAsync(o => o.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable, app =>
            app.MapGet("/limited", [TokenBucket(10, 5)] () => "ok"));
        var responses = Responses(paths, "/limited");

        Assert.False(responses.TryGetProperty("429", out _), responses.ToString());
        Assert.True(responses.GetProperty("503").GetProperty("content").TryGetProperty("application/problem+json", out _), responses.ToString());
        Assert.Equal(["RateLimit: string", "RateLimit-Policy: string", "Retry-After: integer"], HeaderTypes(responses.GetProperty("503")));
    }

    [Fact]
    public async Task Open_and_opted_out_endpoints_document_no_rate_limit_header()
    {
        var paths = await PathsAsync(configure: null, app =>
        {
            app.MapGet("/open", () => "ok");
            var group = app.MapGroup("/group").RequireTokenBucket(10, 5);
            group.MapGet("/opted-out", () => "ok").DisableTokenBucket();
            group.MapGet("/opted-out-by-attribute", [DisableTokenBucket] () => "ok");
        });

        foreach (var path in new[] { "/open", "/group/opted-out", "/group/opted-out-by-attribute" })
        {
            var responses = Responses(paths, path);
            Assert.Equal(["200"], responses.EnumerateObject().Select(r => r.Name));
            Assert.False(responses.GetProperty("200").TryGetProperty("headers", out _), $"{path}: {responses}");
        }
    }

    [Fact]
    public async Task Every_named_openapi_document_gets_the_rate_limit_headers_whichever_of_AddOpenApi_and_AddTokenBucketOpenApi_comes_first()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddOpenApi();
        builder.Services.AddTokenBuckets();
        builder.Services.AddTokenBucketOpenApi();
        builder.Services.AddOpenApi("internal");
        // A second registration must not document the headers twice over, nor fail.
        builder.Services.AddTokenBuckets();
        builder.Services.AddTokenBucketOpenApi();
        await using var app = builder.Build();
        app.UseTokenBuckets();
        app.MapOpenApi();
        app.MapGet("/limited", [TokenBucket(10, 5)] () => "ok");
        await app.StartAsync();

        foreach (var name in new[] { "v1", "internal" })
        {
            using var document = JsonDocument.Parse(await app.GetTestClient().GetStringAsync($"/openapi/{name}.json"));
            var responses = Responses(document.RootElement.GetProperty("paths"), "/limited");
            Assert.Equal(["RateLimit: string", "RateLimit-Policy: string", "Retry-After: integer"], HeaderTypes(responses.GetProperty("429")));
            Assert.Equal(["RateLimit: string", "RateLimit-Policy: string"], HeaderTypes(responses.GetProperty("200")));
        }
    }

    [Fact]
    public async Task Without_the_OpenApi_package_the_429_and_403_are_still_documented_through_API_Explorer_without_their_headers()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets();
        builder.Services.AddOpenApi();
        await using var app = builder.Build();
        app.UseTokenBuckets();
        app.MapOpenApi();
        app.MapGet("/limited", () => "ok").RequireTokenBucket(10, 5, key: "header:X-Api-Key");
        await app.StartAsync();

        using var document = JsonDocument.Parse(await app.GetTestClient().GetStringAsync("/openapi/v1.json"));
        var responses = Responses(document.RootElement.GetProperty("paths"), "/limited");
        Assert.Equal(["200", "403", "429"], responses.EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.True(responses.GetProperty("429").GetProperty("content").TryGetProperty("application/problem+json", out _), responses.ToString());
        Assert.Empty(HeaderTypes(responses.GetProperty("429")));
        Assert.Empty(HeaderTypes(responses.GetProperty("200")));
    }

    [Fact]
    public async Task Mvc_actions_document_the_rate_limit_headers_and_an_opted_out_action_none()
    {
        var paths = await PathsAsync(configure: null, app => app.MapControllers(), SampleControllersOnly);

        foreach (var path in new[] { "/ping", "/reports/daily" })
        {
            Assert.Equal(["RateLimit: string", "RateLimit-Policy: string", "Retry-After: integer"], HeaderTypes(Responses(paths, path).GetProperty("429")));
            Assert.Equal(["RateLimit: string", "RateLimit-Policy: string"], HeaderTypes(Responses(paths, path).GetProperty("200")));
        }
        Assert.False(Responses(paths, "/reports/health").GetProperty("200").TryGetProperty("headers", out _), Responses(paths, "/reports/health").ToString());
    }

    [Fact]
    public async Task A_limited_endpoint_that_declares_no_response_keeps_the_200_that_an_open_one_is_documented_with()
    {
        var paths = await PathsAsync(configure: null, app =>
        {
            app.MapGet("/limited", [TokenBucket(10, 5)] () => Results.Ok());
            app.MapGet("/open", () => Results.Ok());
            app.MapControllers();
        }, SampleControllersOnly);

        foreach (var path in new[] { "/open", "/reports/health" })
        {
            var ok = Responses(paths, path).GetProperty("200");
            Assert.Equal(["description"], ok.EnumerateObject().Select(p => p.Name));
            Assert.Equal("OK", ok.GetProperty("description").GetString());
        }
        foreach (var path in new[] { "/limited", "/ping" })
        {
            var responses = Responses(paths, path);
            Assert.Equal(["200", "429"], responses.EnumerateObject().Select(r => r.Name));
            var ok = responses.GetProperty("200");
            // The open endpoint's 200, with the rate-limit headers and nothing else added.
            Assert.Equal(["description", "headers"], ok.EnumerateObject().Select(p => p.Name));
            Assert.Equal("OK", ok.GetProperty("description").GetString());
        }
    }

    /// <summary>A custom key, which may be missing: the resolver returns null without an <c>X-Client</c> header.</summary>
    public sealed class ClientKey : ITokenBucketKeyResolver
    {
        public string? ResolveKey(HttpContext context) => context.Request.Headers["X-Client"].FirstOrDefault();
    }

    // The MVC sample's controllers, and only those, so the document does not depend on which test controllers exist.
    private static void SampleControllersOnly(IServiceCollection services) =>
        services.AddControllers().ConfigureApplicationPartManager(parts =>
        {
            parts.ApplicationParts.Clear();
            parts.ApplicationParts.Add(new AssemblyPart(typeof(MvcSample.SampleMarker).Assembly));
        });

    // Each documented header of a response as "name: schema type", in ordinal order of the names; empty when it documents none.
    private static string[] HeaderTypes(JsonElement response) =>
        response.TryGetProperty("headers", out var headers)
            ? [.. headers.EnumerateObject().OrderBy(h => h.Name, StringComparer.Ordinal).Select(h => $"{h.Name}: {h.Value.GetProperty("schema").GetProperty("type").GetString()}")]
            : [];

    private static JsonElement Responses(JsonElement paths, string path) =>
        paths.GetProperty(path).GetProperty("get").GetProperty("responses");

    // Starts an app with the endpoints that map adds and returns the paths of the document it serves.
    private static async Task<JsonElement> PathsAsync(Action<TokenBucketOptions>? configure, Action<WebApplication> map, Action<IServiceCollection>? services = null, string documentName = "v1")
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets(configure);
        builder.Services.AddOpenApi(documentName);
        builder.Services.AddTokenBucketOpenApi();
        services?.Invoke(builder.Services);
        await using var app = builder.Build();
        app.UseTokenBuckets();
        app.MapOpenApi();
        map(app);
        await app.StartAsync();
        using var document = JsonDocument.Parse(await app.GetTestClient().GetStringAsync($"/openapi/{documentName}.json"));
        return document.RootElement.GetProperty("paths").Clone();
    }
}
