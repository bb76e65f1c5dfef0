using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// A test authentication scheme: a request is signed in as the user in <c>X-Test-User</c>, with the roles in
/// <c>X-Test-Roles</c>; without the header it is anonymous. With <see cref="AdminTestAuthenticationOptions.EveryoneIsOperator"/>
/// every request is an operator, which lets a browser in without credentials of its own.
/// </summary>
public sealed class AdminTestAuthentication(IOptionsMonitor<AdminTestAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AdminTestAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "Test";
    public const string UserHeader = "X-Test-User";
    public const string RolesHeader = "X-Test-Roles";
    public const string OperatorRole = "ops";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var user = Options.EveryoneIsOperator ? "operator" : Request.Headers[UserHeader].ToString();
        if (user.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var roles = Options.EveryoneIsOperator ? OperatorRole : Request.Headers[RolesHeader].ToString();
        var claims = new List<Claim> { new(ClaimTypes.Name, user) };
        claims.AddRange(roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(r => new Claim(ClaimTypes.Role, r)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }
}
