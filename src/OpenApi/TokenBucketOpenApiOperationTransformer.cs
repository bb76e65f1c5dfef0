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
        if (operation.Responses is not { Count: > 0 } responses || EndpointLimits.InForce(context.Description.ActionDescriptor.EndpointMetadata).Count == 0)
        {
            return Task.CompletedTask;
        }
        // The options in force when the document is made, as the middleware reads them for each request.
        var settings = context.ApplicationServices.GetRequiredService<IOptionsMonitor<TokenBucketOptions>>().CurrentValue;
        var style = settings.Headers;
        var rejected = settings.RejectionStatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (status, response) in responses)
        {
            // A response referenced from the document's components is shared with other operations: not this one's to change.
            if (response is not OpenApiResponse own)
            {
                continue;
            }
            if (status == rejected)
            {
                RateLimitHeaderDocumentation.AddRejected(own, style);
            }
            else if (IsSuccess(status))
            {
                RateLimitHeaderDocumentation.AddAdmitted(own, style);
            }
        }
        return Task.CompletedTask;
    }

    // "200", "201"..., and the range "2XX".
    private static bool IsSuccess(string status) => status.Length == 3 && status[0] == '2';
}
