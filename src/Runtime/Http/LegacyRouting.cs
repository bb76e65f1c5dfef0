using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RateGuard.Http;

/// <summary>
/// MVC's legacy routing (<c>EnableEndpointRouting = false</c> with <c>app.UseMvc()</c>) runs controllers without
/// endpoints, so the limiter never sees them and none of their limits applies. An app whose controllers carry limits
/// and route that way does not start: silence would leave every limit off.
/// </summary>
internal static class LegacyRouting
{
    public static void ThrowIfControllersAreLimited(IServiceProvider services)
    {
        if (services.GetService<IActionDescriptorCollectionProvider>() is not { } provider
            || services.GetRequiredService<IOptions<MvcOptions>>().Value.EnableEndpointRouting)
        {
            return;
        }
        var limited = provider.ActionDescriptors.Items
            .OfType<ControllerActionDescriptor>()
            .Where(action => action.EndpointMetadata.OfType<TokenBucketAttribute>().Any())
            .Select(action => action.DisplayName ?? action.ActionName)
            .ToList();
        if (limited.Count == 0)
        {
            return;
        }
        var shown = string.Join(", ", limited.Take(5)) + (limited.Count > 5 ? $" and {limited.Count - 5} more" : "");
        throw new InvalidOperationException(
            $"MVC runs with legacy routing (MvcOptions.EnableEndpointRouting is false), where token-bucket limits are never applied, and these actions have limits: {shown}. {char.ToUpperInvariant(LimitRules.EndpointRouting[0])}{LimitRules.EndpointRouting[1..]}.");
    }
}
