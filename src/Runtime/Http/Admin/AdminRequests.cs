using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using RateGuard.Clients;

namespace RateGuard.Http.Admin;

/// <summary>
/// Reads the bucket and client a request names, and the override it sets. Bucket names hold spaces, slashes and
/// braces (<c>GET /items/{id}</c>) and keys are arbitrary client values, so both travel in the query string or a JSON
/// body, never in path segments.
/// </summary>
internal static class AdminRequests
{
    // A bucket name, a client value and an override's numbers with room to spare; a larger body is not an admin request.
    public const int MaxBodyBytes = 16 * 1024;

    // What each body holds, for the messages that refuse one.
    private const string ClientBody = "{\"bucket\": \"...\", \"key\": \"...\"}";
    private const string OverrideBody = "{\"bucket\": \"...\", \"key\": \"...\", \"capacity\": 100, \"rate\": 10, \"expiresAfterSeconds\": 3600}";

    /// <summary>The <c>bucket</c> and <c>key</c> query parameters of <c>GET inspect</c>.</summary>
    public static (string Bucket, string Key) FromQuery(HttpRequest request) =>
        (Single(request.Query["bucket"], "bucket"), Single(request.Query["key"], "key"));

    /// <summary>
    /// The <c>{"bucket": "...", "key": "..."}</c> body of <c>POST reset</c> (and, as <paramref name="action"/> says, of
    /// <c>DELETE overrides</c>). Only <c>application/json</c> is taken: a browser sends that type across sites only after
    /// a CORS preflight, so a form on another site cannot reset buckets with an operator's cookies.
    /// </summary>
    public static async Task<(string Bucket, string Key)> FromJsonBodyAsync(HttpRequest request, string action = "a reset")
    {
        using var body = await ReadJsonObjectAsync(request, action, ClientBody).ConfigureAwait(false);
        return (Property(body.RootElement, "bucket", ClientBody), Property(body.RootElement, "key", ClientBody));
    }

    /// <summary>
    /// The <c>{"bucket", "key", "capacity", "rate", "expiresAfterSeconds"}</c> body of <c>PUT overrides</c>, as
    /// <see cref="FromJsonBodyAsync"/> takes it. Each value's type is checked here; its range, by the operations
    /// service, with the rules of every limit.
    /// </summary>
    public static async Task<(string Bucket, string Key, int Capacity, double Rate, TimeSpan ExpiresAfter)> OverrideFromJsonBodyAsync(HttpRequest request)
    {
        using var body = await ReadJsonObjectAsync(request, "an override", OverrideBody).ConfigureAwait(false);
        var root = body.RootElement;
        var bucket = Property(root, "bucket", OverrideBody);
        var key = Property(root, "key", OverrideBody);
        var capacityValue = Number(root, "capacity");
        if (!capacityValue.TryGetInt32(out var capacity))
        {
            throw new AdminRequestException(StatusCodes.Status400BadRequest,
                $"The body's \"capacity\" is {capacityValue.GetRawText()}; it must be a whole number of tokens, at least 1.");
        }
        var rate = Number(root, "rate").GetDouble();
        var seconds = Number(root, "expiresAfterSeconds").GetDouble();
        try
        {
            ClientOverrideRules.ThrowIfInvalidLifetime(seconds);
        }
        catch (ArgumentException e)
        {
            throw Invalid(e);
        }
        return (bucket, key, capacity, rate, TimeSpan.FromSeconds(seconds));
    }

    /// <summary>
    /// A value the operations service refused (<see cref="ArgumentException"/>) as a 400 whose detail is the rule it
    /// broke, without the parameter's name the exception adds to its message.
    /// </summary>
    public static AdminRequestException Invalid(ArgumentException e)
    {
        var suffix = e.ParamName is null ? null : $" (Parameter '{e.ParamName}')";
        var detail = suffix is not null && e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message[..^suffix.Length] : e.Message;
        return new AdminRequestException(StatusCodes.Status400BadRequest, detail);
    }

    // The body as a JSON object; the caller disposes it.
    private static async Task<JsonDocument> ReadJsonObjectAsync(HttpRequest request, string action, string example)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (type.Charset.HasValue && !type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            throw new AdminRequestException(StatusCodes.Status415UnsupportedMediaType,
                $"{char.ToUpperInvariant(action[0])}{action[1..]} takes a JSON body sent as Content-Type: application/json, and this request's Content-Type is " +
                $"{(string.IsNullOrEmpty(request.ContentType) ? "missing" : "\"" + request.ContentType + "\"")}. " +
                $"Send {example} with Content-Type: application/json.");
        }
        if (request.ContentLength > MaxBodyBytes)
        {
            throw TooLarge(action, example);
        }

        var body = await ReadBodyAsync(request, action, example).ConfigureAwait(false);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new AdminRequestException(StatusCodes.Status400BadRequest,
                $"The body is not valid JSON ({e.Message}). Send {example}.");
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind.ToString().ToLowerInvariant();
            document.Dispose();
            throw new AdminRequestException(StatusCodes.Status400BadRequest,
                $"The body is a JSON {kind}, not an object. Send {example}.");
        }
        return document;
    }

    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, string action, string example)
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
            if (buffer.WrittenCount > MaxBodyBytes)
            {
                throw TooLarge(action, example);
            }
        }
    }

    private static AdminRequestException TooLarge(string action, string example) => new(StatusCodes.Status413PayloadTooLarge,
        $"The body of {action} is at most {MaxBodyBytes} bytes: a bucket name and a client value, and what an override sets. Send {example}.");

    private static JsonElement Number(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw new AdminRequestException(StatusCodes.Status400BadRequest,
                $"The body has no \"{name}\". Send {OverrideBody}.");
        }
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new AdminRequestException(StatusCodes.Status400BadRequest,
                $"The body's \"{name}\" is a JSON {value.ValueKind.ToString().ToLowerInvariant()}; it must be a number.");
        }
        return value;
    }

    private static string Property(JsonElement body, string name, string example)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw new AdminRequestException(StatusCodes.Status400BadRequest,
                $"The body has no \"{name}\". Send {example}.");
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
