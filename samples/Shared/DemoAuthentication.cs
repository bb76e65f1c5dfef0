using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace RateGuard.Samples;

/// <summary>
/// A stand-in for real authentication, so the samples can show user and claim keys: a request carrying
/// <c>X-Demo-User: alice</c> (and optionally <c>X-Demo-Tenant: acme</c>, <c>X-Demo-Role: ops</c>) is signed in as
/// alice of tenant acme, in role ops.
/// </summary>
public sealed class DemoAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Demo";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var user = Request.Headers["X-Demo-User"].ToString();
        if (string.IsNullOrEmpty(user))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        List<Claim> claims = [new(ClaimTypes.NameIdentifier, user), new(ClaimTypes.Name, user)];
        var tenant = Request.Headers["X-Demo-Tenant"].ToString();
        if (!string.IsNullOrEmpty(tenant))
        {
            claims.Add(new Claim("tenant", tenant));
        }
        var role = Request.Headers["X-Demo-Role"].ToString();
        if (!string.IsNullOrEmpty(role))
        {
            claims.Add(new Claim(ClaimTypes.Role, role));
        }
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}
