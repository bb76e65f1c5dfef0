using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RateGuard;
using RateGuard.Configuration;
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
            // so a misconfigured limit fails at startup. The pipeline is built from its end, so this runs before the
            // routing middleware in front of it reads its data sources, and the two can share one build of them.
            var table = services.GetRequiredService<EndpointGateTable>();
            table.Track(RoutedDataSources(app));
            var middleware = new TokenBucketMiddleware(
                next,
                table,
                services.GetRequiredService<TokenBucketLimiter>(),
                services.GetRequiredService<RateGuard.Clients.ClientOverrides>(),
                services.GetRequiredService<CurrentOptions>(),
                services.GetService<IProblemDetailsService>(),
                services.GetRequiredService<ILoggerFactory>().CreateLogger("RateGuard"),
                // With authentication services registered, a user key read before authentication ran is an order mistake.
                services.GetService<IAuthenticationSchemeProvider>() is not null,
                // In development a charge the handler gets wrong throws; elsewhere it is clamped and logged.
                services.GetService<IHostEnvironment>()?.IsDevelopment() == true);
            return middleware.InvokeAsync;
        });
    }

    // The data sources that the routing middleware matches against: those of the route builder UseRouting() recorded,
    // else the app's own (a WebApplication routes its own endpoints, with or without an explicit UseRouting()).
    private static ICollection<EndpointDataSource>? RoutedDataSources(IApplicationBuilder app)
    {
        foreach (var key in (ReadOnlySpan<string>)[EndpointRouteBuilderKey, GlobalEndpointRouteBuilderKey])
        {
            if (app.Properties.TryGetValue(key, out var builder) && builder is IEndpointRouteBuilder routes)
            {
                return routes.DataSources;
            }
        }
        return (app as IEndpointRouteBuilder)?.DataSources;
    }

    // The keys under which ASP.NET Core's UseRouting() and WebApplication record their route builders.
    private const string EndpointRouteBuilderKey = "__EndpointRouteBuilder";
    private const string GlobalEndpointRouteBuilderKey = "__GlobalEndpointRouteBuilder";
}
