using Microsoft.AspNetCore.Authentication;
using RateGuard.Samples;

var builder = WebApplication.CreateBuilder(args);

// TokenBuckets:Redis (for example --TokenBuckets:Redis=127.0.0.1:6379) selects Redis; without it, buckets are in memory.
builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
builder.Services.AddAuthentication(DemoAuthenticationHandler.SchemeName)
    .AddScheme<AuthenticationSchemeOptions, DemoAuthenticationHandler>(DemoAuthenticationHandler.SchemeName, null);
builder.Services.AddAuthorization();
builder.Services.AddControllers();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
// After routing and authentication, before the controllers: rejected requests never reach model binding.
app.UseTokenBuckets();
app.MapControllers();
app.Run();

namespace MvcSample
{
    /// <summary>Marks this sample's assembly, for tests that host it.</summary>
    public sealed class SampleMarker;
}
