using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Operations;

namespace RateGuard.Http.Admin;

/// <summary>
/// The request delegates of the admin endpoints. Plain <see cref="RequestDelegate"/>s that read the query or body and
/// write their response by hand, so nothing on these routes depends on reflection-based binding or serialization.
/// </summary>
internal static class AdminEndpoints
{
    /// <summary>
    /// <c>GET {pattern}</c>: the page, rendered on the server with every value HTML-encoded; with <c>?part=data</c>,
    /// only its data section, which the page's script fetches to refresh itself.
    /// </summary>
    public static Task PageAsync(HttpContext context) => HandleAsync(context, static async (context, operations) =>
    {
        var snapshot = AdminSnapshot.Take(operations);
        var overrides = await AdminOverrides.ReadAsync(operations, context.RequestAborted).ConfigureAwait(false);
        var now = (context.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
        var response = context.Response;
        string html;
        if (context.Request.Query["part"] == "data")
        {
            // A fragment with nothing to run: opened on its own, it runs nothing and loads nothing either.
            html = AdminPage.RenderData(snapshot, overrides, now);
            response.Headers.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";
        }
        else
        {
            // A fresh nonce per response: the page's own script and style run, anything injected into it would not.
            // Base64url, which CSP accepts, has no character that HTML encoding would rewrite in the attribute.
            var nonce = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
            html = AdminPage.Render(snapshot, overrides, (context.Request.PathBase + context.Request.Path).ToUriComponent().TrimEnd('/'), nonce, now);
            response.Headers.ContentSecurityPolicy =
                "default-src 'none'; " +
                $"script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; " +
                "connect-src 'self'; img-src data:; " +
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        }
        response.ContentType = "text/html; charset=utf-8";
        response.Headers["Referrer-Policy"] = "no-referrer";
        var bytes = Encoding.UTF8.GetBytes(html);
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    });

    /// <summary><c>GET {pattern}/buckets</c>: servers, buckets and their most rejected clients as JSON.</summary>
    public static Task BucketsAsync(HttpContext context) => HandleAsync(context, static (context, operations) =>
        AdminResponses.WriteJsonAsync(context, StatusCodes.Status200OK, AdminSnapshot.Take(operations), AdminJson.WriteSnapshot));

    /// <summary><c>GET {pattern}/inspect?bucket=…&amp;key=…</c>: one client's bucket as JSON; takes nothing.</summary>
    public static Task InspectAsync(HttpContext context) => HandleAsync(context, static async (context, operations) =>
    {
        var (bucket, key) = AdminRequests.FromQuery(context.Request);
        var state = await operations.InspectAsync(bucket, key, context.RequestAborted).ConfigureAwait(false);
        await AdminResponses.WriteJsonAsync(context, StatusCodes.Status200OK, state, AdminJson.WriteState).ConfigureAwait(false);
    });

    /// <summary><c>POST {pattern}/reset</c> with <c>{"bucket", "key"}</c>: the client's bucket is full again; 204.</summary>
    public static Task ResetAsync(HttpContext context) => HandleAsync(context, static async (context, operations) =>
    {
        var (bucket, key) = await AdminRequests.FromJsonBodyAsync(context.Request).ConfigureAwait(false);
        await operations.ResetAsync(bucket, key, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    });

    /// <summary><c>GET {pattern}/overrides</c>: every client override in force, as a JSON array.</summary>
    public static Task OverridesAsync(HttpContext context) => HandleAsync(context, static async (context, operations) =>
    {
        var overrides = await operations.GetOverridesAsync(context.RequestAborted).ConfigureAwait(false);
        var now = (context.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
        await AdminResponses.WriteJsonAsync(context, StatusCodes.Status200OK, (overrides, now),
            static (json, state) => AdminJson.WriteOverrides(json, state.overrides, state.now)).ConfigureAwait(false);
    });

    /// <summary>
    /// <c>PUT {pattern}/overrides</c> with <c>{"bucket", "key", "capacity", "rate", "expiresAfterSeconds"}</c>: the
    /// client gets its own limits on that bucket, on every instance within a second; 204. A value out of range is
    /// 400, a store that holds <c>MaxOverrides</c> already is 409.
    /// </summary>
    public static Task SetOverrideAsync(HttpContext context) => HandleAsync(context, static async (context, operations) =>
    {
        var (bucket, key, capacity, rate, expiresAfter) = await AdminRequests.OverrideFromJsonBodyAsync(context.Request).ConfigureAwait(false);
        try
        {
            await operations.SetOverrideAsync(bucket, key, capacity, rate, expiresAfter, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            throw AdminRequests.Invalid(e);
        }
        catch (InvalidOperationException e) when (e is not ObjectDisposedException)
        {
            // The request is sound but the store is full: it conflicts with the overrides already set.
            throw new AdminRequestException(StatusCodes.Status409Conflict, e.Message);
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    });

    /// <summary>
    /// <c>DELETE {pattern}/overrides</c> with <c>{"bucket", "key"}</c>: the client's override is removed on every
    /// instance within a second; 204, or 404 when there was none (or it had expired).
    /// </summary>
    public static Task RemoveOverrideAsync(HttpContext context) => HandleAsync(context, static async (context, operations) =>
    {
        var (bucket, key) = await AdminRequests.FromJsonBodyAsync(context.Request, "a removal").ConfigureAwait(false);
        if (!await operations.RemoveOverrideAsync(bucket, key, context.RequestAborted).ConfigureAwait(false))
        {
            throw new AdminRequestException(StatusCodes.Status404NotFound,
                $"There is no client override of '{key}' on bucket '{bucket}' (or it has expired), so nothing was removed. GET overrides lists those in force.");
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    });

    // Every failure an operator can meet becomes a problem that says what happened, with the status that fits it.
    private static async Task HandleAsync(HttpContext context, Func<HttpContext, ITokenBucketOperations, Task> handle)
    {
        AdminResponses.SetCommonHeaders(context.Response);
        var operations = context.RequestServices.GetRequiredService<ITokenBucketOperations>();
        int status;
        string detail;
        try
        {
            await handle(context, operations).ConfigureAwait(false);
            return;
        }
        catch (AdminRequestException e)
        {
            (status, detail) = (e.Status, e.Message);
        }
        catch (UnknownTokenBucketException e)
        {
            (status, detail) = (StatusCodes.Status404NotFound, e.Message);
        }
        catch (TokenBucketStoreUnavailableException e)
        {
            (status, detail) = (StatusCodes.Status503ServiceUnavailable, e.Message);
        }
        catch (NotSupportedException e)
        {
            // The store in use cannot do this operation at all (not a fault that passes): 501 tells the operator so.
            (status, detail) = (StatusCodes.Status501NotImplemented, e.Message);
        }
        if (context.Response.HasStarted)
        {
            // Too late for a problem body; the connection is aborted instead so the client sees the response is cut.
            context.Abort();
            return;
        }
        context.Response.Clear();
        AdminResponses.SetCommonHeaders(context.Response);
        await AdminResponses.WriteProblemAsync(context, status, detail).ConfigureAwait(false);
    }
}
