using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace RateGuard.Integration.Tests.Binding;

/// <summary>
/// A caller without a value for a limit's key, on an endpoint that requires authorization, gets the app's own answer
/// (the bearer challenge, 401), whether UseTokenBuckets() runs before or after UseAuthorization(); the limiter's
/// missing-key 403 is left for callers that authorization admits.
/// </summary>
public sealed class AuthorizationOrderTests
{
    private static readonly SymmetricSecurityKey s_key = new(RandomNumberGenerator.GetBytes(32));

    [Theory]
    [InlineData(true, "/me")]
    [InlineData(false, "/me")]
    [InlineData(true, "/articles")]
    [InlineData(false, "/articles")]
    public async Task An_anonymous_caller_gets_the_apps_challenge_whatever_the_order(bool limitsBeforeAuthorization, string path)
    {
        await using var app = await StartAsync(limitsBeforeAuthorization);

        using var response = await app.GetTestClient().PostAsync(path, content: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.False(response.Headers.Contains("RateLimit-Policy"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_signed_in_caller_is_limited_and_one_without_the_claim_gets_the_missing_key_answer(bool limitsBeforeAuthorization)
    {
        await using var app = await StartAsync(limitsBeforeAuthorization);
        var client = app.GetTestClient();

        using var me = await PostAsync(client, "/me", Token(("sub", "alice")));
        using var tenant = await PostAsync(client, "/tenant", Token(("sub", "alice")));

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        Assert.Equal("\"POST /me\";q=5;w=5", string.Join(",", me.Headers.GetValues("RateLimit-Policy")));
        Assert.Equal(HttpStatusCode.Forbidden, tenant.StatusCode);
        Assert.Contains("needs a value for its key claim:tenant", await tenant.Content.ReadAsStringAsync());
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }

    private static string Token(params (string Type, string Value)[] claims) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Subject = new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value))),
        Expires = DateTime.UtcNow.AddHours(1),
        SigningCredentials = new SigningCredentials(s_key, SecurityAlgorithms.HmacSha256),
    });

    private static async Task<WebApplication> StartAsync(bool limitsBeforeAuthorization)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets();
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o => o.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = false,
            ValidateAudience = false,
            IssuerSigningKey = s_key,
        });
        builder.Services.AddAuthorization();
        builder.Services.AddControllers().ConfigureApplicationPartManager(parts =>
        {
            parts.ApplicationParts.Clear();
            parts.ApplicationParts.Add(new AssemblyPart(typeof(AuthorizationOrderTests).Assembly));
            parts.FeatureProviders.Remove(parts.FeatureProviders.OfType<ControllerFeatureProvider>().Single());
            parts.FeatureProviders.Add(new OnlyArticles());
        });
        var app = builder.Build();
        app.UseAuthentication();
        if (limitsBeforeAuthorization)
        {
            app.UseTokenBuckets();
            app.UseAuthorization();
        }
        else
        {
            app.UseAuthorization();
            app.UseTokenBuckets();
        }
        app.MapPost("/me", [TokenBucket(5, 1, Key = "user")] () => "me").RequireAuthorization();
        app.MapPost("/tenant", [TokenBucket(5, 1, Key = "claim:tenant")] () => "tenant").RequireAuthorization();
        app.MapControllers();
        await app.StartAsync();
        return app;
    }

    private sealed class OnlyArticles : ControllerFeatureProvider
    {
        protected override bool IsController(System.Reflection.TypeInfo typeInfo) => typeInfo.AsType() == typeof(AuthorizedArticlesController);
    }
}

[Route("articles")]
[Authorize]
[TokenBucket(10, 1, Key = "user")]
public sealed class AuthorizedArticlesController : ControllerBase
{
    [HttpPost]
    public string Create() => "created";
}
