using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace RateGuard.Http.Admin;

/// <summary>
/// Reads the bucket and client a request names. Bucket names hold spaces, slashes and braces (<c>GET /items/{id}</c>)
/// and keys are arbitrary client values, so both travel in the query string or a JSON body, never in path segments.
/// </summary>
internal static class AdminRequests
{
    // A bucket name and a client value with room to spare; a body larger than this is not a reset request.
    public const int MaxResetBodyBytes = 16 * 1024;

    /// <summary>The <c>bucket</c> and <c>key</c> query parameters of <c>GET inspect</c>.</summary>
    public static (string Bucket, string Key) FromQuery(HttpRequest request) =>
        (Single(request.Query["bucket"], "bucket"), Single(request.Query["key"], "key"));

    /// <summary>
    /// The <c>{"bucket": "...", "key": "..."}</c> body of <c>POST reset</c>. Only <c>application/json</c> is taken: a
    /// browser sends that type across sites only after a CORS preflight, so a form on another site cannot reset
    /// buckets with an operator's cookies.
    /// </summary>
    public static async Task<(string Bucket, string Key)> FromJsonBodyAsync(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (type.Charset.HasValue && !type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            throw new AdminRequestException(StatusCodes.Status415UnsupportedMediaType,
                $"A reset takes a JSON body sent as Content-Type: application/json, and this request's Content-Type is " +
                $"{(string.IsNullOrEmpty(request.ContentType) ? "missing" : "\"" + request.ContentType + "\"")}. " +
                "Send {\"bucket\": \"...\", \"key\": \"...\"} with Content-Type: application/json.");
        }
        if (request.ContentLength > MaxResetBodyBytes)
        {
            throw TooLarge();
        }

        var body = await ReadBodyAsync(request).ConfigureAwait(false);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new AdminRequestException(StatusCodes.Status400BadRequest,
                $"The body is not valid JSON ({e.Message}). Send {{\"bucket\": \"...\", \"key\": \"...\"}}.");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new AdminRequestException(StatusCodes.Status400BadRequest,
                    $"The body is a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object. Send {{\"bucket\": \"...\", \"key\": \"...\"}}.");
            }
            return (Property(document.RootElement, "bucket"), Property(document.RootElement, "key"));
        }
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        while (true)
        {
            var read = await request.Body.ReadAsync(buffer.GetMemory(4096), request.HttpContext.RequestAborted).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.WrittenMemory;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > MaxResetBodyBytes)
            {
                throw TooLarge();
            }
        }
    }

    private static AdminRequestException TooLarge() => new(StatusCodes.Status413PayloadTooLarge,
        $"A reset body is at most {MaxResetBodyBytes} bytes: a bucket name and a client value. Send {{\"bucket\": \"...\", \"key\": \"...\"}}.");

    private static string Property(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw new AdminRequestException(StatusCodes.Status400BadRequest,
                $"The body has no \"{name}\". Send {{\"bucket\": \"...\", \"key\": \"...\"}}.");
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new AdminRequestException(StatusCodes.Status400BadRequest,
                $"The body's \"{name}\" is a JSON {value.ValueKind.ToString().ToLowerInvariant()}; it must be a string.");
        }
        return NonEmpty(value.GetString()!, name, $"the body's \"{name}\"");
    }

    private static string Single(StringValues values, string name)
    {
        if (values.Count == 0)
        {
            throw new AdminRequestException(StatusCodes.Status400BadRequest,
                $"The query string has no \"{name}\". Ask for ?bucket=<bucket name>&key=<client value>, each URL-encoded.");
        }
        if (values.Count > 1)
        {
            throw new AdminRequestException(StatusCodes.Status400BadRequest,
                $"The query string gives \"{name}\" {values.Count} times; give it once.");
        }
        return NonEmpty(values[0]!, name, $"the query's \"{name}\"");
    }

    private static string NonEmpty(string value, string name, string where)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new AdminRequestException(StatusCodes.Status400BadRequest,
                $"{char.ToUpperInvariant(where[0])}{where[1..]} is empty; it must name a {(name == "bucket" ? "bucket" : "client value, as the limit reads it")}.");
        }
        return value;
    }
}
