using System.Reflection;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Mvc.Controllers;

namespace RateGuard.Integration.Tests.Infrastructure;

/// <summary>
/// Limits MVC to the controllers of one namespace of this assembly, which holds the controllers of many test apps: each
/// app maps its own and no other's limits.
/// </summary>
public sealed class ControllersOf(string? @namespace) : ControllerFeatureProvider
{
    /// <summary>Makes <paramref name="parts"/> find only the controllers in <typeparamref name="TMarker"/>'s namespace.</summary>
    public static void Only<TMarker>(ApplicationPartManager parts)
    {
        parts.ApplicationParts.Clear();
        parts.ApplicationParts.Add(new AssemblyPart(typeof(TMarker).Assembly));
        parts.FeatureProviders.Remove(parts.FeatureProviders.OfType<ControllerFeatureProvider>().Single());
        parts.FeatureProviders.Add(new ControllersOf(typeof(TMarker).Namespace));
    }

    protected override bool IsController(TypeInfo typeInfo) => typeInfo.Namespace == @namespace && base.IsController(typeInfo);
}
