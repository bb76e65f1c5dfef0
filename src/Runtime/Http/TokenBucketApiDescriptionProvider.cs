using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApiExplorer;

namespace RateGuard.Http;

/// <summary>
/// Declares the 429 that a token-bucket limit can answer, with its problem body, on every limited endpoint that API
/// Explorer describes, so an OpenAPI document (Microsoft.AspNetCore.OpenApi, Swashbuckle) lists it.
/// </summary>
internal sealed class TokenBucketApiDescriptionProvider : IApiDescriptionProvider
{
    private const string ProblemJson = "application/problem+json";

    // After the built-in providers have described each endpoint's own responses.
    public int Order => 1000;

    public void OnProvidersExecuting(ApiDescriptionProviderContext context)
    {
    }

    public void OnProvidersExecuted(ApiDescriptionProviderContext context)
    {
        foreach (var description in context.Results)
        {
            if (EndpointLimits.InForce(description.ActionDescriptor.EndpointMetadata).Count == 0 || description.SupportedResponseTypes.Any(r => r.StatusCode == StatusCodes.Status429TooManyRequests))
            {
                continue;
            }
            description.SupportedResponseTypes.Add(new ApiResponseType
            {
                StatusCode = StatusCodes.Status429TooManyRequests,
                Type = typeof(ProblemDetails),
                ApiResponseFormats = [new ApiResponseFormat { MediaType = ProblemJson }],
                ModelMetadata = null,
            });
        }
    }
}
