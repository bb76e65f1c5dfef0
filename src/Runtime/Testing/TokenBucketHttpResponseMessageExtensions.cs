using System.Globalization;
using System.Net;
using System.Text;

namespace RateGuard.Testing;

/// <summary>Checks, in a test, that a response is a rate-limit rejection, and reads what it says.</summary>
public static class TokenBucketHttpResponseMessageExtensions
{
    /// <summary>
    /// Throws <see cref="HttpRequestException"/> unless <paramref name="response"/> is a rejection by a limit: status
    /// <paramref name="statusCode"/> (429 unless the app sets <c>TokenBuckets:RejectionStatusCode</c>) with a
    /// <c>Retry-After</c> in whole seconds, or with none only when the request could never be admitted. Like
    /// <see cref="HttpResponseMessage.EnsureSuccessStatusCode"/>, for any test framework.
    /// </summary>
    /// <returns>The rejection's wait and the buckets the response names.</returns>
    public static RateLimitRejection EnsureRateLimited(this HttpResponseMessage response, HttpStatusCode statusCode = HttpStatusCode.TooManyRequests)
    {
        ArgumentNullException.ThrowIfNull(response);
        var request = response.RequestMessage is { } sent ? $"{sent.Method} {sent.RequestUri}" : "The request";
        if (response.StatusCode != statusCode)
        {
            throw new HttpRequestException(
                $"{request} was expected to be rejected by a rate limit with {(int)statusCode}, but the response was {(int)response.StatusCode} ({response.StatusCode}).",
                null, response.StatusCode);
        }
        var buckets = Buckets(response);
        TimeSpan? retryAfter = null;
        if (response.Headers.TryGetValues("Retry-After", out var values))
        {
            var text = string.Join(",", values);
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1)
            {
                throw new HttpRequestException($"{request} was rejected, but its Retry-After '{text}' is not a whole number of seconds of at least 1.", null, response.StatusCode);
            }
            retryAfter = TimeSpan.FromSeconds(seconds);
        }
        return new RateLimitRejection(response.StatusCode, retryAfter, buckets);
    }

    // The names in "RateLimit-Policy": a list of quoted strings, each followed by its parameters.
    private static string[] Buckets(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("RateLimit-Policy", out var values))
        {
            return [];
        }
        var names = new List<string>();
        foreach (var value in values)
        {
            var name = new StringBuilder();
            var quoted = false;
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (!quoted)
                {
                    quoted = c == '"';
                    continue;
                }
                if (c == '\\' && i + 1 < value.Length)
                {
                    name.Append(value[++i]);
                }
                else if (c == '"')
                {
                    names.Add(name.ToString());
                    name.Clear();
                    quoted = false;
                    // Skip the parameters up to the next member of the list.
                    while (i + 1 < value.Length && value[i + 1] != ',')
                    {
                        i++;
                    }
                }
                else
                {
                    name.Append(c);
                }
            }
        }
        return [.. names];
    }
}
