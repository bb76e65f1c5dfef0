using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace RateGuard.OpenApi;

/// <summary>
/// Documents the rate-limit headers of a limited endpoint's responses in the documents of Microsoft.AspNetCore.OpenApi:
/// <c>Retry-After</c> and the configured rate-limit headers on the rejection (429 unless configured otherwise), the
/// rate-limit headers on each success response the endpoint declares. API Explorer has no place for response headers,
/// so this cannot go through RateGuard's API description provider, which describes the responses themselves.
/// </summary>
internal sealed class TokenBucketOpenApiOperationTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        // The options in force when the document is made, as the middleware reads them for each request.
        var settings = context.ApplicationServices.GetRequiredService<IOptionsMonitor<TokenBucketOptions>>().CurrentValue;
        RateLimitHeaderDocumentation.AddTo(operation, context.Description.ActionDescriptor.EndpointMetadata, settings);
        return Task.CompletedTask;
    }
}
