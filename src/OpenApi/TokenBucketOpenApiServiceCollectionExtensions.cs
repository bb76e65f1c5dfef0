using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RateGuard.OpenApi;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Documents RateGuard's rate-limit headers in the OpenAPI documents of Microsoft.AspNetCore.OpenApi.</summary>
public static class TokenBucketOpenApiServiceCollectionExtensions
{
    /// <summary>
    /// Adds the rate-limit headers of limited endpoints to every OpenAPI document the app serves through
    /// <c>AddOpenApi()</c>, named or not: <c>Retry-After</c> and the configured rate-limit headers on the rejection,
    /// the rate-limit headers on each success response. The rejection and missing-key responses themselves are
    /// described by RateGuard through API Explorer, without this package, to any document generator.
    /// </summary>
    public static IServiceCollection AddTokenBucketOpenApi(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        // TryAddEnumerable: a second call does not add the transformer twice.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<OpenApiOptions>, TokenBucketOpenApiOptionsSetup>());
        return services;
    }
}
