using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace RateGuard.Http.Admin;

/// <summary>
/// How every admin response is written: never cached, never sniffed, JSON written by hand with
/// <see cref="Utf8JsonWriter"/> (no serializer contract, so nothing for trimming or Native AOT to lose), and errors as
/// <c>application/problem+json</c>.
/// </summary>
internal static class AdminResponses
{
    public const string JsonContentType = "application/json; charset=utf-8";

    // The default encoder escapes <, >, & and quotes as \uXXXX: client values are attacker-chosen, and a JSON body
    // that something renders as HTML after all must still not run a script.
    private static readonly JsonWriterOptions s_writerOptions = new() { Indented = false };

    /// <summary>
    /// Headers every admin response carries: client values and limits are live operational data that no shared cache
    /// may keep, and no browser may read a response as anything but its declared type.
    /// </summary>
    public static void SetCommonHeaders(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
    }

    /// <summary>Writes a JSON body produced by <paramref name="write"/> with <paramref name="status"/>.</summary>
    public static Task WriteJsonAsync<TState>(HttpContext context, int status, TState state, Action<Utf8JsonWriter, TState> write) =>
        WriteAsync(context, status, JsonContentType, state, write);

    /// <summary>Writes an RFC 9457 problem with <paramref name="status"/> and <paramref name="detail"/>.</summary>
    public static Task WriteProblemAsync(HttpContext context, int status, string detail)
    {
        var (type, title) = ProblemType.For(status);
        return WriteAsync(context, status, ProblemJson.ContentType, (type, title, status, detail),
            static (json, problem) => ProblemJson.Write(json, problem.type, problem.title, problem.status, problem.detail));
    }

    private static async Task WriteAsync<TState>(HttpContext context, int status, string contentType, TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            write(json, state);
        }
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
