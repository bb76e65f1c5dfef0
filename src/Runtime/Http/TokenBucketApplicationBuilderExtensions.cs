using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RateGuard;
using RateGuard.Http;
using RateGuard.Limiting;
using RateGuard.Stores;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds token-bucket limiting to the request pipeline.</summary>
public static class TokenBucketApplicationBuilderExtensions
{
    /// <summary>
    /// Enforces the <c>[TokenBucket]</c> limits of the chosen endpoint. Call it after <c>UseRouting</c> (implicit in
    /// minimal apps) and after <c>UseAuthentication</c> when keys use the user or its claims; it answers rejected
    /// requests before the endpoint reads or binds the body.
    /// </summary>
    public static IApplicationBuilder UseTokenBuckets(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.ApplicationServices;
        if (services.GetService<ITokenBucketStore>() is null)
        {
            throw new InvalidOperationException("UseTokenBuckets() needs services.AddTokenBuckets(...) to be called first.");
        }
        return app.Use(next =>
        {
            // Built when the pipeline is built, after every Map* call: every endpoint is matched to its gates here,
            // so a misconfigured limit fails at startup.
            var table = services.GetRequiredService<EndpointGateTable>();
            var middleware = new TokenBucketMiddleware(
                next,
                table,
                services.GetRequiredService<TokenBucketLimiter>(),
                services.GetRequiredService<IOptions<TokenBucketOptions>>(),
                services.GetService<IProblemDetailsService>());
            return middleware.InvokeAsync;
        });
    }
}
