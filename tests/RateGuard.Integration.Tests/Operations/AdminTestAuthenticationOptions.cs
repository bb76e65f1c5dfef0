using Microsoft.AspNetCore.Authentication;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>Options of <see cref="AdminTestAuthentication"/>.</summary>
public sealed class AdminTestAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>Signs every request in as an operator, headers or not.</summary>
    public bool EveryoneIsOperator { get; set; }
}
