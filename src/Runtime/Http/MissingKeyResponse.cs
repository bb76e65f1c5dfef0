using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Routing.Patterns;
using RateGuard.CompilerServices;
using RateGuard.Configuration;

namespace RateGuard.Http;

/// <summary>
/// Whether a limited endpoint can meet a request with no value for one of its keys, which the middleware answers with
/// <see cref="TokenBucketOptions.MissingKeyStatusCode"/>, and how its API description says so.
/// </summary>
internal static class MissingKeyResponse
{
    /// <summary>
    /// The description of the missing-key response of <paramref name="description"/>, naming each key of
    /// <paramref name="limits"/> that a request can lack; <see langword="null"/> when every key always has a value.
    /// </summary>
    public static string? Describe(ApiDescription description, List<TokenBucketAttribute> limits)
    {
        List<string>? keys = null;
        foreach (var limit in limits)
        {
            if (!CanBeMissing(limit, description))
            {
                continue;
            }
            keys ??= [];
            var spec = Spec(limit)!.Value;
            var key = spec.KeyResolver is { } resolver ? resolver.Name : spec.Key!;
            if (!keys.Contains(key))
            {
                keys.Add(key);
            }
        }
        return keys switch
        {
            null => null,
            [var only] => $"The request has no value for the rate-limit key {only}.",
            _ => $"The request has no value for one of the rate-limit keys {string.Join(", ", keys)}.",
        };
    }

    // Whether a request to the described endpoint can have no value for the limit's key.
    private static bool CanBeMissing(TokenBucketAttribute limit, ApiDescription description)
    {
        // An unknown name stops the app at startup, so no request ever meets it.
        if (Spec(limit) is not { } spec)
        {
            return false;
        }
        // A resolver may answer null or empty for any request, and the gate reads either as no key.
        if (spec.KeyResolver is not null)
        {
            return true;
        }
        // An invalid key stops the app at startup, so no request ever meets it.
        if (!TokenBucketKey.TryParse(spec.Key, out var kind, out var argument))
        {
            return false;
        }
        return kind switch
        {
            TokenBucketKeyKind.Header or TokenBucketKeyKind.Query => true,
            // An anonymous caller has no user: where the endpoint requires authorization, authorization answers it first.
            TokenBucketKeyKind.User => !AuthorizationFirst.Requires(description.ActionDescriptor.EndpointMetadata),
            // An authenticated caller may lack the claim, or every claim that names it.
            TokenBucketKeyKind.Claim => true,
            TokenBucketKeyKind.Route => RouteValueCanBeMissing(argument!, description),
            // ip: every TCP connection has a remote address (only a Unix-socket or named-pipe listener leaves it unset).
            // global: one constant key.
            _ => false,
        };
    }

    // The limit's own spec, or its declaration's when it is used by name.
    private static TokenBucketSpec? Spec(TokenBucketAttribute limit)
    {
        if (limit.Limit is not { } name)
        {
            return TokenBucketSpec.From(limit);
        }
        return DeclaredLimits.TryGet(name, out var spec) ? spec : null;
    }

    // A route value exists whenever the route matched, except for an optional parameter without a default ({page?}) or
    // a catch-all ({*path}), which can match nothing; the gate reads an empty value as no key.
    private static bool RouteValueCanBeMissing(string name, ApiDescription description)
    {
        var action = description.ActionDescriptor;
        // MVC's description path drops the '?' and '*' of its parameters; its attribute route keeps them.
        var template = action.AttributeRouteInfo?.Template ?? description.RelativePath;
        if (template is null)
        {
            return false;
        }
        RoutePattern pattern;
        try
        {
            pattern = RoutePatternFactory.Parse(template);
        }
        catch (RoutePatternException)
        {
            // Routing parsed the same template when it built the endpoint, so this is not expected; should it happen,
            // nothing here shows that the value can be missing.
            return false;
        }
        if (pattern.GetParameter(name) is { } parameter)
        {
            return parameter.Default is null && (parameter.IsOptional || parameter.IsCatchAll);
        }
        // A name that is not in the template: MVC's own route values (controller, action, area) are always set; any
        // other name never is.
        return !(action is ControllerActionDescriptor && action.RouteValues.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value));
    }
}
