using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using RateGuard.Configuration;

namespace RateGuard.Http;

/// <summary>
/// Declares the problem responses that token-bucket limits can answer, on every limited endpoint that API Explorer
/// describes, so any OpenAPI document generator (Microsoft.AspNetCore.OpenApi, Swashbuckle) lists them: the rejection of a
/// rejected request (429 unless <see cref="TokenBucketOptions.RejectionStatusCode"/> says otherwise), and the missing-key status of a request without a value for a key that can be missing.
/// </summary>
internal sealed class TokenBucketApiDescriptionProvider(CurrentOptions options) : IApiDescriptionProvider
{
    // After the built-in providers have described each endpoint's own responses.
    public int Order => 1000;

    public void OnProvidersExecuting(ApiDescriptionProviderContext context)
    {
    }

    public void OnProvidersExecuted(ApiDescriptionProviderContext context)
    {
        // The options in force when API Explorer describes the endpoints, which it does once until they change.
        var settings = options.Value;
        foreach (var description in context.Results)
        {
            var limits = EndpointLimits.InForce(description.ActionDescriptor.EndpointMetadata);
            if (limits.Count == 0)
            {
                continue;
            }
            if (description.SupportedResponseTypes.Count == 0)
            {
                // An endpoint that declares no response (an MVC action returning IActionResult or object, a handler
                // returning IResult) is documented with a 200 by the generators, but only while it declares none: the
                // problems added below would otherwise take its success response out of the document.
                description.SupportedResponseTypes.Add(new ApiResponseType { StatusCode = StatusCodes.Status200OK, Type = typeof(void) });
            }
            AddProblem(description, settings.RejectionStatusCode, text: null);
            if (settings.MissingKey == MissingKeyBehavior.Reject && MissingKeyResponse.Describe(description, limits) is { } missing)
            {
                AddProblem(description, settings.MissingKeyStatusCode, missing);
            }
        }
    }

    // A status the endpoint already declares keeps the endpoint's own description of it.
    private static void AddProblem(ApiDescription description, int status, string? text)
    {
        foreach (var declared in description.SupportedResponseTypes)
        {
            if (declared.StatusCode == status)
            {
                return;
            }
        }
        description.SupportedResponseTypes.Add(new ApiResponseType
        {
            StatusCode = status,
            Description = text,
            Type = typeof(ProblemDetails),
            ApiResponseFormats = [new ApiResponseFormat { MediaType = ProblemJson.ContentType }],
            ModelMetadata = null,
        });
    }
}
