using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using RateGuard.Http.Sharing;

namespace RateGuard.Http;

/// <summary>
/// The default names of an app's unnamed buckets: the endpoint's HTTP methods and the route template as a person wrote
/// it, such as <c>GET /items/{id}</c>, so that every instance of the app derives the same name and shares the same
/// Redis bucket, and a person can read it in a header and write it in configuration.
/// </summary>
/// <remarks>
/// Parameters keep their names and drop their constraints and defaults (<c>{id:int}</c> is <c>{id}</c>), which keeps
/// <c>:</c> out of the name so that it can be a configuration key. A conventionally routed MVC action has the values
/// of its route filled in (<c>GET /Home/Index/{id?}</c>). Two endpoints that would get one name (the same methods
/// and template, told apart by host or a constraint) share it only if they are the same endpoint: the later one gets a
/// short hash of its display name appended, so the names stay stable from one build to the next.
/// </remarks>
internal sealed class EndpointBucketName
{
    // Room for a suffix ("#2" or a hash) within the longest name a policy takes.
    private const int MaxReadableLength = TokenBucketPolicy.MaxNameLength - 12;

    // Each default name handed out, and what it belongs to: an endpoint by its display name, which outlives a rebuild,
    // or the marker of a limit that several endpoints share, which is the same object in each rebuild.
    private readonly ConcurrentDictionary<string, object> _owners = new(StringComparer.Ordinal);

    /// <summary>The default name of the <paramref name="index"/>th unnamed limit of <paramref name="endpoint"/>.</summary>
    public string For(Endpoint endpoint, int index)
    {
        var text = Describe(endpoint);
        var owner = endpoint.DisplayName ?? text;
        if (!Equals(_owners.GetOrAdd(text, owner), owner))
        {
            // A different endpoint already has this name: this one is told apart by a hash of its own identity.
            text = Limit(text, MaxReadableLength - 9) + " " + Hash(owner);
            _owners.TryAdd(text, owner);
        }
        return index == 0 ? text : $"{text} #{index + 1}";
    }

    /// <summary>
    /// The default name of a limit its endpoints share: the group's prefix or the controller's name. A second limit of
    /// the same group or controller, or one of another group with the same prefix, is numbered in the order the
    /// endpoints list them (<c>/todos #2</c>), which is the same on every instance of the app.
    /// </summary>
    public string? For(SharedLimit shared)
    {
        if (shared.Describe() is not { } described)
        {
            return null;
        }
        var text = Printable(described);
        text = text.Length > MaxReadableLength ? Limit(text, MaxReadableLength - 9) + " " + Hash(described) : text;
        var name = text;
        for (var n = 2; !Equals(_owners.GetOrAdd(name, shared), shared); n++)
        {
            name = $"{text} #{n}";
        }
        return name;
    }

    /// <summary>The methods and route template of <paramref name="endpoint"/>, as a bucket name.</summary>
    internal static string Describe(Endpoint endpoint)
    {
        var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
        var builder = new StringBuilder();
        if (methods is { Count: > 0 })
        {
            builder.AppendJoin(',', methods).Append(' ');
        }
        if (endpoint is RouteEndpoint { RoutePattern: { } pattern })
        {
            AppendTemplate(builder, pattern);
        }
        else
        {
            builder.Append(endpoint.DisplayName ?? "endpoint");
        }
        var written = builder.ToString();
        var text = Printable(written.Trim());
        // A name cut short must not coincide with another endpoint's: it carries a hash of the whole.
        return text.Length > MaxReadableLength ? Limit(text, MaxReadableLength - 9) + " " + Hash(written) : text;
    }

    /// <summary>Writes <paramref name="pattern"/> as a person wrote it, constraints and defaults left out.</summary>
    internal static void AppendTemplate(StringBuilder builder, RoutePattern pattern)
    {
        if (pattern.PathSegments.Count == 0)
        {
            builder.Append('/');
            return;
        }
        foreach (var segment in pattern.PathSegments)
        {
            builder.Append('/');
            foreach (var part in segment.Parts)
            {
                switch (part)
                {
                    case RoutePatternLiteralPart literal:
                        builder.Append(literal.Content);
                        break;
                    case RoutePatternSeparatorPart separator:
                        builder.Append(separator.Content);
                        break;
                    case RoutePatternParameterPart parameter when pattern.RequiredValues.TryGetValue(parameter.Name, out var value) && value is not null && !ReferenceEquals(value, RoutePattern.RequiredValueAny) && value is not "":
                        // Conventional MVC routes share one template; the values the action requires tell them apart.
                        builder.Append(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                        break;
                    case RoutePatternParameterPart parameter:
                        builder.Append('{').Append(parameter.IsCatchAll ? "*" : "").Append(parameter.Name).Append(parameter.IsOptional ? "?" : "").Append('}');
                        break;
                }
            }
        }
    }

    // Bucket names are printable ASCII without ':'. A route literal may have anything: ':' becomes '.', as in Google's
    // custom methods (/items:batch), and other characters '_'.
    private static string Printable(string text)
    {
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = chars[i] switch
            {
                ':' => '.',
                < ' ' or > '~' => '_',
                var c => c,
            };
        }
        return new string(chars);
    }

    private static string Limit(string text, int length) => text.Length <= length ? text : text[..length].TrimEnd();

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 4));
}
