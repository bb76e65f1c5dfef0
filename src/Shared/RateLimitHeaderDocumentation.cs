using Microsoft.OpenApi;

namespace RateGuard;

/// <summary>
/// The OpenAPI description of each header the middleware writes, for the header style in force, and which responses of
/// a limited operation carry which headers. One rule for every document generator RateGuard serves: both
/// Microsoft.AspNetCore.OpenApi and Swashbuckle build their documents from the OpenAPI.NET 2 object model, so the
/// OpenAPI and Swashbuckle packages link this file and describe the same headers in the same words.
/// None is marked required: a bucket that fails open, or a request let through without a key, leaves the rate-limit
/// headers out.
/// </summary>
internal static class RateLimitHeaderDocumentation
{
    /// <summary>
    /// Documents the headers of an operation whose endpoint <paramref name="endpointMetadata"/> limits: <c>Retry-After</c>
    /// and the style's rate-limit headers on the rejection, the style's rate-limit headers on each success response.
    /// The missing-key response gets none: a request without a key is answered before any bucket is consulted. An
    /// endpoint without a limit in force, or an operation with no responses, is left as it is.
    /// </summary>
    public static void AddTo(OpenApiOperation operation, IEnumerable<object> endpointMetadata, TokenBucketOptions settings)
    {
        if (operation.Responses is not { Count: > 0 } responses || EndpointLimits.InForce(endpointMetadata).Count == 0)
        {
            return;
        }
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
                AddRejected(own, style);
            }
            else if (IsSuccess(status))
            {
                AddAdmitted(own, style);
            }
        }
    }

    // "200", "201"..., and the range "2XX".
    private static bool IsSuccess(string status) => status.Length == 3 && status[0] == '2';

    // The headers of a request that a bucket rejected: Retry-After and the style's rate-limit headers.
    private static void AddRejected(OpenApiResponse response, RateLimitHeaderStyle style)
    {
        Add(response, "Retry-After", JsonSchemaType.Integer, minimum: "1",
            "Seconds until the request can be admitted: the longest wait of the buckets that rejected it, rounded up to a whole second. "
            + "Not sent when the request costs more tokens than its bucket holds, and so can never be admitted.");
        AddAdmitted(response, style);
    }

    // The style's rate-limit headers, which admitted and rejected requests carry alike.
    private static void AddAdmitted(OpenApiResponse response, RateLimitHeaderStyle style)
    {
        switch (style)
        {
            case RateLimitHeaderStyle.Draft:
                Add(response, RateLimitHeaderNames.Draft, JsonSchemaType.String, minimum: null,
                    "The state of each bucket that decided the request, as the IETF RateLimit header fields draft writes it: "
                    + "\"<bucket>\";r=<tokens left>;t=<seconds until the bucket is full, or, for a bucket that rejected the request, until it can admit it>, "
                    + "comma-separated.");
                Add(response, RateLimitHeaderNames.DraftPolicy, JsonSchemaType.String, minimum: null,
                    "Each of the endpoint's buckets, as the IETF RateLimit header fields draft writes it: "
                    + "\"<bucket>\";q=<capacity in tokens>;w=<seconds an empty bucket takes to fill>, comma-separated, "
                    + "as in \"search\";q=10;w=2.");
                break;
            case RateLimitHeaderStyle.Legacy:
                // The legacy headers describe one bucket: the one the middleware found closest to rejecting.
                Add(response, RateLimitHeaderNames.LegacyRemaining, JsonSchemaType.Integer, minimum: "0",
                    "Tokens left in the bucket closest to rejecting the request (on a rejection, the bucket that rejected it). The other X-RateLimit headers describe the same bucket.");
                Add(response, RateLimitHeaderNames.LegacyReplenishRate, JsonSchemaType.Number, minimum: null,
                    "Tokens that bucket regains per second; may be fractional, as 0.5.");
                Add(response, RateLimitHeaderNames.LegacyBurstCapacity, JsonSchemaType.Integer, minimum: "1",
                    "The most tokens that bucket holds: the largest burst.");
                Add(response, RateLimitHeaderNames.LegacyRequestedTokens, JsonSchemaType.Integer, minimum: "1",
                    "Tokens one request takes from that bucket.");
                break;
        }
    }

    // A header the endpoint documents itself keeps the endpoint's own description.
    private static void Add(OpenApiResponse response, string name, JsonSchemaType type, string? minimum, string description)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.OrdinalIgnoreCase);
        response.Headers.TryAdd(name, new OpenApiHeader
        {
            Description = description,
            Schema = new OpenApiSchema { Type = type, Minimum = minimum },
        });
    }
}
