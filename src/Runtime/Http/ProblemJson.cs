using System.Text.Json;

namespace RateGuard.Http;

/// <summary>
/// The RFC 9457 problem body RateGuard writes itself (when the app registers no <c>IProblemDetailsService</c>, and on
/// the admin endpoints), by hand rather than serialized, so it needs no reflection or JSON contract.
/// </summary>
internal static class ProblemJson
{
    public const string ContentType = "application/problem+json";

    public static void Write(Utf8JsonWriter json, string? type, string? title, int status, string? detail)
    {
        json.WriteStartObject();
        json.WriteString("type", type);
        json.WriteString("title", title);
        json.WriteNumber("status", status);
        json.WriteString("detail", detail);
        json.WriteEndObject();
    }
}
