using Microsoft.AspNetCore.Http;

namespace RateGuard.Samples;

/// <summary>A custom key: the client id before the first dot of an <c>X-Client</c> header such as <c>mobile.v2</c>.</summary>
public sealed class ApiClientKeyResolver : ITokenBucketKeyResolver
{
    public string? ResolveKey(HttpContext context)
    {
        var client = context.Request.Headers["X-Client"].ToString();
        var dot = client.IndexOf('.');
        return dot < 0 ? client : client[..dot];
    }
}
