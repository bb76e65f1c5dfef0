using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RateGuard.Swashbuckle;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Documents RateGuard's rate-limit headers in the OpenAPI documents of Swashbuckle.AspNetCore.</summary>
public static class TokenBucketSwaggerGenServiceCollectionExtensions
{
    /// <summary>
    /// Adds the rate-limit headers of limited endpoints to every document the app serves through Swashbuckle's
    /// <c>AddSwaggerGen()</c>, called before this or after: <c>Retry-After</c> and the configured rate-limit headers on
    /// the rejection, the rate-limit headers on each success response. The rejection and missing-key responses
    /// themselves are described by RateGuard through API Explorer, without this package, to any document generator.
    /// </summary>
    public static IServiceCollection AddTokenBucketSwaggerGen(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        // TryAddEnumerable: a second call does not add the filter twice.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<SwaggerGenOptions>, TokenBucketSwaggerGenOptionsSetup>());
        return services;
    }
}
