using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace RateGuard.Integration.Tests.Infrastructure;

/// <summary>
/// The bearer tokens of a test app's own issuer: signed with a key made for the run, and accepted by the JWT handler that
/// <see cref="Accept"/> configures.
/// </summary>
public sealed class TestTokens(string issuer, string audience)
{
    private readonly SymmetricSecurityKey _signingKey = new(RandomNumberGenerator.GetBytes(32));

    /// <summary>A token for <paramref name="user"/> (its <c>sub</c>, which the JWT handler maps to the name identifier), with <paramref name="claims"/>.</summary>
    public string For(string user, params Claim[] claims) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = issuer,
        Audience = audience,
        Subject = new ClaimsIdentity([new Claim("sub", user), .. claims]),
        Expires = DateTime.UtcNow.AddHours(1),
        SigningCredentials = new SigningCredentials(_signingKey, SecurityAlgorithms.HmacSha256),
    });

    /// <summary>Makes the JWT handler accept this issuer's tokens.</summary>
    public void Accept(JwtBearerOptions options) => options.TokenValidationParameters = new TokenValidationParameters
    {
        ValidIssuer = issuer,
        ValidAudience = audience,
        IssuerSigningKey = _signingKey,
    };
}
