using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace RateGuard.Http;

/// <summary>
/// A request without a value for a limit's key, to an endpoint that requires authorization which has not run yet
/// (<c>UseTokenBuckets()</c> before <c>UseAuthorization()</c>): authorization answers it, as the app would answer it
/// without a limiter (a challenge, 401, for an anonymous caller), rather than the limiter's missing-key status. Only a
/// request that authorization admits meets the missing-key response.
/// </summary>
/// <remarks>
/// The endpoint's policy is evaluated here as ASP.NET Core's authorization middleware evaluates it, and a failure is
/// handed to the app's <see cref="IAuthorizationMiddlewareResultHandler"/>, so a custom handler's answer is kept. This
/// runs only on the missing-key path, never for a request that has its key.
/// </remarks>
internal static class AuthorizationFirst
{
    // What ASP.NET Core's authorization middleware records once it has run for an endpoint (the endpoint middleware
    // reads it to refuse endpoints with authorization metadata that no authorization middleware saw).
    private const string AuthorizationRan = "__AuthorizationMiddlewareWithEndpointInvoked";

    /// <summary>Whether the endpoint's authorization answered <paramref name="context"/>; when it did, the response is written.</summary>
    public static async Task<bool> TryAnswerAsync(HttpContext context, Endpoint endpoint)
    {
        if (context.Items.ContainsKey(AuthorizationRan) || !Requires(endpoint.Metadata))
        {
            return false;
        }
        var services = context.RequestServices;
        if (services.GetService<IAuthorizationPolicyProvider>() is not { } provider
            || services.GetService<IPolicyEvaluator>() is not { } evaluator
            || services.GetService<IAuthorizationMiddlewareResultHandler>() is not { } handler)
        {
            return false;
        }
        var policy = await AuthorizationPolicy.CombineAsync(
            provider, endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>(), endpoint.Metadata.GetOrderedMetadata<AuthorizationPolicy>());
        if (policy is null)
        {
            return false;
        }
        var authentication = await evaluator.AuthenticateAsync(policy, context);
        var authorization = await evaluator.AuthorizeAsync(policy, authentication, context, context);
        if (authorization.Succeeded)
        {
            return false;
        }
        await handler.HandleAsync(static _ => Task.CompletedTask, context, policy, authorization);
        return true;
    }

    /// <summary>Whether an endpoint with this metadata requires authorization: some authorize data and no allow-anonymous.</summary>
    public static bool Requires(IEnumerable<object> metadata)
    {
        var authorizes = false;
        foreach (var item in metadata)
        {
            if (item is IAllowAnonymous)
            {
                return false;
            }
            authorizes |= item is IAuthorizeData or AuthorizationPolicy;
        }
        return authorizes;
    }
}
