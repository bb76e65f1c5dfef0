using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Testing;

namespace RateGuard.Integration.Tests.Binding;

/// <summary>
/// A browser front end on another origin reads Retry-After and the rate-limit headers only when the response exposes
/// them: through ASP.NET Core's CORS middleware, on admitted and rejected responses alike.
/// </summary>
public sealed class CorsTests
{
    private const string Origin = "https://app.example";

    [Fact]
    public async Task A_policy_with_the_exposed_headers_lets_scripts_read_them_on_a_200_and_on_the_429()
    {
        await using var app = await StartAsync(expose: true);
        var client = app.GetTestClient();

        using var admitted = await GetAsync(client);
        using var rejected = await GetAsync(client);

        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        foreach (var response in new[] { admitted, rejected })
        {
            Assert.Equal(Origin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
            var exposed = string.Join(",", response.Headers.GetValues("Access-Control-Expose-Headers")).Split(',', StringSplitOptions.TrimEntries);
            Assert.Contains("RateLimit", exposed);
            Assert.Contains("RateLimit-Policy", exposed);
            Assert.Contains("Retry-After", exposed);
        }
        Assert.True(rejected.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task Without_them_the_429_carries_CORS_but_exposes_nothing_a_script_could_retry_by()
    {
        await using var app = await StartAsync(expose: false);
        var client = app.GetTestClient();

        using var admitted = await GetAsync(client);
        using var rejected = await GetAsync(client);

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal(Origin, Assert.Single(rejected.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.False(rejected.Headers.Contains("Access-Control-Expose-Headers"));
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/feed");
        request.Headers.Add("Origin", Origin);
        return await client.SendAsync(request);
    }

    private static async Task<WebApplication> StartAsync(bool expose)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets();
        builder.Services.UseTestClientAddresses();
        builder.Services.AddCors(o => o.AddDefaultPolicy(policy =>
        {
            policy.WithOrigins(Origin);
            if (expose)
            {
                policy.WithExposedTokenBucketHeaders();
            }
        }));
        var app = builder.Build();
        app.UseCors();
        app.UseTokenBuckets();
        app.MapGet("/feed", [TokenBucket(1, 0.001)] () => "feed");
        await app.StartAsync();
        return app;
    }
}
