using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace RateGuard.Swashbuckle;

/// <summary>
/// Documents the rate-limit headers of a limited endpoint's responses in Swashbuckle's documents, as RateGuard.OpenApi
/// does in those of Microsoft.AspNetCore.OpenApi: <c>Retry-After</c> and the configured rate-limit headers on the
/// rejection (429 unless configured otherwise), the rate-limit headers on each success response the endpoint declares.
/// API Explorer has no place for response headers, so this cannot go through RateGuard's API description provider,
/// which describes the responses themselves.
/// </summary>
internal sealed class TokenBucketSwaggerGenOperationFilter(IOptionsMonitor<TokenBucketOptions> options) : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context) =>
        // The options in force when the document is made, as the middleware reads them for each request: Swashbuckle
        // keeps one filter for the app's lifetime, so the monitor is read here, not in the constructor.
        RateLimitHeaderDocumentation.AddTo(operation, context.ApiDescription.ActionDescriptor.EndpointMetadata, options.CurrentValue);
}
