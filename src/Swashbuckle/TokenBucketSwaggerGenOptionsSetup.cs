using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace RateGuard.Swashbuckle;

/// <summary>
/// Adds <see cref="TokenBucketSwaggerGenOperationFilter"/> to Swashbuckle's generator, which applies its operation
/// filters to every document it serves. Swashbuckle reads <see cref="SwaggerGenOptions"/> once all of their setups have
/// run, so this one counts whether it was registered before the app's <c>AddSwaggerGen()</c> or after.
/// </summary>
internal sealed class TokenBucketSwaggerGenOptionsSetup(IOptionsMonitor<TokenBucketOptions> options) : IConfigureOptions<SwaggerGenOptions>
{
    // An instance, built here from DI, rather than a filter type for Swashbuckle to construct by reflection: nothing of
    // this package is then reached only through reflection, and a trimmed app keeps all of it.
    public void Configure(SwaggerGenOptions swaggerGen) =>
        swaggerGen.AddOperationFilterInstance(new TokenBucketSwaggerGenOperationFilter(options));
}
