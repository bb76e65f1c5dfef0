using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace RateGuard.Http;

/// <summary>
/// The default bucket name of an endpoint: its HTTP methods and route pattern, so that every instance of the app
/// derives the same name and shares the same Redis bucket.
/// </summary>
internal static class EndpointBucketName
{
    private const int MaxReadableLength = 80;

    public static string For(Endpoint endpoint, int index)
    {
        var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
        var route = endpoint is RouteEndpoint r ? r.RoutePattern.RawText ?? "" : endpoint.DisplayName ?? "endpoint";
        var text = (methods is { Count: > 0 } ? string.Join(",", methods) : "ANY") + (route.StartsWith('/') ? route : "/" + route);
        // Conventionally routed MVC actions share one pattern ({controller}/{action}/...); the values that pattern's
        // parameters are required to have tell them apart. Attribute routes are distinct by themselves.
        if (endpoint is RouteEndpoint { RoutePattern: { RequiredValues.Count: > 0 } pattern })
        {
            var filled = pattern.RequiredValues.Where(p => pattern.GetParameter(p.Key) is not null).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
            if (filled.Count > 0)
            {
                text += "@" + string.Join(",", filled.Select(p => $"{p.Key}={p.Value}"));
            }
        }
        // A second limit on one endpoint gets ".2" and a hash of its exact identity, so it cannot coincide with the
        // name of a route that really ends in ".2".
        return index == 0 ? Sanitize(text, forceHash: false) : Sanitize($"{text}.{index + 1}", forceHash: true);
    }

    // Keeps the name readable where it can, and appends a hash of the exact text whenever a character had to be
    // replaced or the text was cut, so that two routes never collapse into one name.
    private static string Sanitize(string text, bool forceHash)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxReadableLength));
        var lossy = forceHash || text.Length > MaxReadableLength;
        foreach (var c in text.AsSpan(0, Math.Min(text.Length, MaxReadableLength)))
        {
            if (TokenBucketLimits.IsBucketNameChar(c))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('_');
                lossy = true;
            }
        }
        if (lossy)
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
            builder.Append('-').Append(Convert.ToHexStringLower(hash.AsSpan(0, 4)));
        }
        return builder.ToString();
    }
}
