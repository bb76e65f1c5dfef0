using Microsoft.AspNetCore.Http;

namespace RateGuard.Benchmarks;

/// <summary>One request, sent again and again through the app's pipeline.</summary>
internal sealed class RepeatedRequest(RequestDelegate pipeline, HttpContext context)
{
    public Task SendAsync() => pipeline(context);

    /// <summary>
    /// Sends the request once and checks it took the path the benchmark means: admitted, and decided by the limits
    /// <paramref name="policy"/> names (the plan's or override's when it has one), so no case measures another by mistake.
    /// </summary>
    public void Expect(string policy)
    {
        SendAsync().GetAwaiter().GetResult();
        var response = context.Response;
        var actual = response.Headers["RateLimit-Policy"].ToString();
        if (response.StatusCode != StatusCodes.Status200OK || actual != policy)
        {
            throw new InvalidOperationException($"Expected 200 decided by {policy}, got {response.StatusCode} decided by {actual}.");
        }
    }
}
