using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Testing;

namespace RateGuard.Integration.Tests.RealApps;

/// <summary>
/// An accounts API shaped as such apps are: an MVC <see cref="Controller"/> signs users in, JWT bearer tokens guard an
/// <c>/api</c> group behind a policy, CORS lets a browser app read the limit headers, and Swashbuckle documents it all.
/// Its limits count what brute force and enumeration look like, not ordinary traffic: failed sign-ins per address, and
/// lookups of records that do not exist per user. Several copies share one Redis.
/// </summary>
public sealed class AccountsApp : IAsyncDisposable
{
    private static readonly TestTokens s_tokens = new("https://accounts.example", "accounts");

    private AccountsApp(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    /// <summary>A bearer token for <paramref name="user"/>.</summary>
    public static string TokenFor(string user) => s_tokens.For(user, new Claim("scope", "accounts"));

    public static async Task<AccountsApp> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(s_tokens.Accept);
        builder.Services.AddAuthorizationBuilder().AddPolicy("accounts", policy => policy.RequireClaim("scope", "accounts"));
        builder.Services.AddCors(o => o.AddDefaultPolicy(policy => policy.WithOrigins("https://app.accounts.example").WithExposedTokenBucketHeaders()));
        builder.Services.AddControllers().ConfigureApplicationPartManager(ControllersOf.Only<AccountsApp>);
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen();
        builder.Services.AddTokenBucketSwaggerGen();
        builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
        builder.Services.UseTestClientAddresses();

        var app = builder.Build();
        app.UseSwagger();
        app.UseCors();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseTokenBuckets();
        app.MapControllers();
        // Asking for records that do not exist is how accounts are enumerated: only the 404s count, per user.
        var api = app.MapGroup("/api").RequireAuthorization("accounts").RequireTokenBucket(capacity: 4, rate: 1.0 / 600, key: "user", count: "404");
        api.MapGet("/accounts/{id:int}", (int id) => id <= 100 ? Results.Ok(new Account(id, $"account {id}")) : Results.NotFound());
        await app.StartAsync();
        return new AccountsApp(app);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
    }
}

public sealed record Account(int Id, string Name);

public sealed record SignIn(string User, string Password);

/// <summary>Signs users in; only failed attempts count against the caller's address.</summary>
[ApiController]
[Route("account")]
public sealed class AccountController : Controller
{
    [HttpPost("sign-in")]
    [AllowAnonymous]
    [TokenBucket(capacity: 3, rate: 1.0 / 600, Key = "ip", Count = TokenBucketCount.Failures)]
    public IActionResult SignIn(SignIn request) =>
        request.Password == "correct horse" ? Ok(new { token = AccountsApp.TokenFor(request.User) }) : Unauthorized();
}
