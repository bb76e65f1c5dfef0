using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Configuration;

// These apps put the middleware in the wrong place on purpose, to check what happens at run time in apps the
// analyzer cannot see (a pipeline built in a library, say). The analyzer's own warning is turned off for them.
#pragma warning disable RG0013

public sealed class PipelineOrderTests
{
    private const string BeforeRouting = "UseTokenBuckets() runs before UseRouting(): endpoint 'HTTP: GET /order' was selected only after the limiter had run, so its limits were not applied. Call app.UseTokenBuckets() after app.UseRouting().";

    [Fact]
    public async Task UseTokenBuckets_before_UseRouting_logs_one_error_naming_the_endpoint_whose_limits_did_not_apply()
    {
        await using var app = await ConfiguredApp.StartAsync(new(), app =>
        {
            app.UseTokenBuckets();
            app.UseRouting();
            app.MapGet("/order", [TokenBucket(capacity: 3, rate: 0.01)] () => "order");
        });

        Assert.Equal(Repeat(200, 5), await app.Client.Statuses("/order", 5));

        Assert.Equal([BeforeRouting], app.Messages(LogLevel.Error));
    }

    [Fact]
    public async Task UseTokenBuckets_after_UseRouting_limits_and_logs_no_order_error_even_for_unmatched_requests()
    {
        await using var app = await ConfiguredApp.StartAsync(new(), app =>
        {
            app.UseRouting();
            app.UseTokenBuckets();
            app.MapGet("/order", [TokenBucket(capacity: 3, rate: 0.01)] () => "order");
        });

        Assert.Equal(Repeat(200, 3).Then(429, 2), await app.Client.Statuses("/order", 5));
        Assert.Equal(Repeat(404, 2), await app.Client.Statuses("/nowhere", 2));

        Assert.Empty(app.Messages(LogLevel.Error));
    }

    [Fact]
    public async Task UseTokenBuckets_before_UseAuthentication_with_a_user_key_logs_one_error_naming_the_bucket()
    {
        await using var app = await ConfiguredApp.StartAsync(new(), app =>
        {
            app.UseRouting();
            app.UseTokenBuckets();
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapGet("/me", [TokenBucket(capacity: 3, rate: 0.01, Key = "user")] () => "me").RequireAuthorization();
        }, services: AddHeaderAuthentication);

        Assert.Equal(Repeat(403, 2), await app.Client.Statuses("/me", 2, (HeaderAuthentication.Header, "alice")));

        Assert.Equal(
            ["UseTokenBuckets() runs before UseAuthentication(): bucket 'GET /me' keys on user, which is read before the user is known, so every request is treated as having no value for it. Call app.UseTokenBuckets() after app.UseAuthentication()."],
            app.Messages(LogLevel.Error));
    }

    [Fact]
    public async Task UseTokenBuckets_after_UseAuthentication_keys_on_the_user_and_logs_no_order_error()
    {
        await using var app = await ConfiguredApp.StartAsync(new(), app =>
        {
            app.UseRouting();
            app.UseAuthentication();
            app.UseAuthorization();
            app.UseTokenBuckets();
            app.MapGet("/me", [TokenBucket(capacity: 3, rate: 0.01, Key = "user")] () => "me").RequireAuthorization();
        }, services: AddHeaderAuthentication);

        Assert.Equal(Repeat(200, 3).Then(429), await app.Client.Statuses("/me", 4, (HeaderAuthentication.Header, "alice")));
        Assert.Equal(Repeat(200, 1), await app.Client.Statuses("/me", 1, (HeaderAuthentication.Header, "bob")));

        Assert.Empty(app.Messages(LogLevel.Error));
    }

    private static void AddHeaderAuthentication(IServiceCollection services)
    {
        services.AddAuthentication(HeaderAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.SchemeName, null);
        services.AddAuthorization();
    }

    // Authenticates whoever names themselves in a header: enough to tell a known user from an unknown one.
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "Header";
        public const string Header = "X-User";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers[Header] is not [{ Length: > 0 } name])
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, name!)], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
