using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Http.Admin;
using RateGuard.Operations;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the opt-in admin endpoints: a page and a small JSON API over <see cref="ITokenBucketOperations"/>.</summary>
public static class TokenBucketAdminEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the token-bucket admin endpoints under <paramref name="pattern"/>, every one of them behind the
    /// authorization policy <paramref name="authorizationPolicy"/>:
    /// <list type="bullet">
    /// <item><c>GET {pattern}</c>: a page with every bucket, the store's circuits, the most rejected clients (each with
    /// a reset button) and a form to inspect one client's bucket.</item>
    /// <item><c>GET {pattern}/buckets</c>: the same data as JSON.</item>
    /// <item><c>GET {pattern}/inspect?bucket=…&amp;key=…</c>: one client's bucket as the store holds it.</item>
    /// <item><c>POST {pattern}/reset</c> with the JSON body <c>{"bucket": "…", "key": "…"}</c>: makes that bucket
    /// full again on every instance; answers 204.</item>
    /// <item><c>GET {pattern}/overrides</c>: the client overrides in force, as JSON.</item>
    /// <item><c>PUT {pattern}/overrides</c> with <c>{"bucket", "key", "capacity", "rate", "expiresAfterSeconds"}</c>:
    /// gives that client its own limits on that bucket, on every instance; answers 204.</item>
    /// <item><c>DELETE {pattern}/overrides</c> with <c>{"bucket", "key"}</c>: removes that client's override; answers
    /// 204, or 404 when there was none.</item>
    /// </list>
    /// Call <c>UseAuthentication()</c> and <c>UseAuthorization()</c> in the pipeline as for any protected endpoint.
    /// </summary>
    /// <param name="endpoints">The app, or a route group.</param>
    /// <param name="pattern">The route prefix, for example <c>/admin/rate-limits</c>.</param>
    /// <param name="authorizationPolicy">
    /// The name of a policy declared with <c>AddAuthorization</c> that admits operators only. There is no anonymous
    /// default: these endpoints reveal client values and can reset any client's limit.
    /// </param>
    /// <returns>The route group of the admin endpoints, for further conventions (a host, CORS, metadata).</returns>
    /// <exception cref="ArgumentException"><paramref name="authorizationPolicy"/> is null, empty or white space.</exception>
    /// <exception cref="InvalidOperationException">
    /// Authorization services are not registered, the policy is not declared, or token buckets are not added.
    /// </exception>
    public static IEndpointConventionBuilder MapTokenBucketAdmin(this IEndpointRouteBuilder endpoints, string pattern, string authorizationPolicy)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        if (string.IsNullOrWhiteSpace(authorizationPolicy))
        {
            throw new ArgumentException(
                $"MapTokenBucketAdmin(\"{pattern}\", ...) needs the name of an authorization policy that admits operators only, " +
                $"and got {(authorizationPolicy is null ? "null" : "\"" + authorizationPolicy + "\"")}: the admin endpoints reveal client values and " +
                "reset limits, so they have no anonymous default. Declare a policy and pass its name, for example " +
                "builder.Services.AddAuthorization(o => o.AddPolicy(\"rate-limit-admin\", p => p.RequireRole(\"ops\"))) and " +
                "app.MapTokenBucketAdmin(\"/admin/rate-limits\", \"rate-limit-admin\").",
                nameof(authorizationPolicy));
        }
        var services = endpoints.ServiceProvider;
        ThrowIfUnknownPolicy(services, pattern, authorizationPolicy);
        if (services.GetService<IServiceProviderIsService>() is { } isService ? !isService.IsService(typeof(ITokenBucketOperations)) : services.GetService<ITokenBucketOperations>() is null)
        {
            throw new InvalidOperationException(
                $"MapTokenBucketAdmin(\"{pattern}\", ...) needs the token-bucket operations service, which is not registered. " +
                "Call builder.Services.AddTokenBuckets(...) first.");
        }

        var group = endpoints.MapGroup(pattern);
        group.RequireAuthorization(authorizationPolicy);
        // Operator endpoints, not part of the app's API: kept out of API Explorer and so out of OpenAPI documents.
        group.ExcludeFromDescription();
        group.MapGet("", AdminEndpoints.PageAsync).WithDisplayName("RateGuard admin page");
        group.MapGet("buckets", AdminEndpoints.BucketsAsync).WithDisplayName("RateGuard admin buckets");
        group.MapGet("inspect", AdminEndpoints.InspectAsync).WithDisplayName("RateGuard admin inspect");
        group.MapPost("reset", AdminEndpoints.ResetAsync).WithDisplayName("RateGuard admin reset");
        group.MapGet("overrides", AdminEndpoints.OverridesAsync).WithDisplayName("RateGuard admin overrides");
        group.MapPut("overrides", AdminEndpoints.SetOverrideAsync).WithDisplayName("RateGuard admin set override");
        group.MapDelete("overrides", AdminEndpoints.RemoveOverrideAsync).WithDisplayName("RateGuard admin remove override");
        return group;
    }

    // Checked when the endpoints are mapped, at startup: a policy name with a typo would otherwise surface only when an
    // operator first opens the page, as a 500 from the authorization middleware.
    private static void ThrowIfUnknownPolicy(IServiceProvider services, string pattern, string policy)
    {
        var fix = $"builder.Services.AddAuthorization(o => o.AddPolicy(\"{policy}\", p => p.RequireRole(\"ops\")))";
        if (services.GetService<IAuthorizationPolicyProvider>() is not { } provider)
        {
            throw new InvalidOperationException(
                $"MapTokenBucketAdmin(\"{pattern}\", \"{policy}\") needs authorization services, and none are registered. " +
                $"Register them with the policy: {fix}, and call app.UseAuthorization().");
        }
        // The default provider answers synchronously; a custom one is waited for once, at startup.
        if (provider.GetPolicyAsync(policy).GetAwaiter().GetResult() is null)
        {
            throw new InvalidOperationException(
                $"MapTokenBucketAdmin(\"{pattern}\", \"{policy}\") names the authorization policy \"{policy}\", which the app's " +
                $"IAuthorizationPolicyProvider does not know. Declare it: {fix}.");
        }
    }
}
