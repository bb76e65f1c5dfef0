using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace RateGuard.Generator.Analysis;

/// <summary>What the analyzer can tell about MVC controllers and actions: which they are, their attribute routes, their authorization.</summary>
internal static class MvcEndpoints
{
    // The rules of MVC's ControllerFeatureProvider: a public top-level class (a nested one is not public to
    // reflection), neither abstract nor generic, not [NonController], and a ControllerBase, a [Controller] or named
    // *Controller in any case.
    public static bool IsController(INamedTypeSymbol type, KnownSymbols symbols) =>
        IsControllerOrBase(type, symbols) && !type.IsAbstract && !type.IsGenericType;

    /// <summary>
    /// Whether <paramref name="type"/> is a controller, or an abstract or generic class that controllers derive from:
    /// limits on it apply to every controller that inherits them.
    /// </summary>
    public static bool IsControllerOrBase(INamedTypeSymbol type, KnownSymbols symbols)
    {
        if (type.TypeKind != TypeKind.Class || type.DeclaredAccessibility != Accessibility.Public || type.ContainingType is not null)
        {
            return false;
        }
        if (HasAttribute(type, symbols.NonControllerAttribute, inherit: true))
        {
            return false;
        }
        return symbols.DerivesFrom(type, symbols.ControllerBase)
            || HasAttribute(type, symbols.ControllerAttribute, inherit: true)
            || type.Name.EndsWith("Controller", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether <paramref name="method"/> could be an action of a controller deriving from its (abstract or generic) class.</summary>
    public static bool IsInheritableAction(IMethodSymbol method, KnownSymbols symbols) =>
        method.ContainingType is { } type && IsControllerOrBase(type, symbols) && IsAction(method, type, symbols);

    /// <summary>
    /// The actions of <paramref name="controller"/> as MVC's application model finds them: its public methods and those
    /// it inherits, an override in place of the method it overrides, less what <see cref="IsAction"/> rules out. What
    /// <c>Controller</c> and <c>ControllerBase</c> declare is never an action (their public members are
    /// <c>[NonAction]</c>, or <c>Dispose</c>).
    /// </summary>
    public static IEnumerable<IMethodSymbol> Actions(INamedTypeSymbol controller, KnownSymbols symbols)
    {
        var overridden = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default);
        for (var type = controller; type is not null && type.SpecialType != SpecialType.System_Object
            && !symbols.Is(type, symbols.ControllerBase) && !symbols.Is(type, symbols.Controller); type = type.BaseType)
        {
            foreach (var member in type.GetMembers().OfType<IMethodSymbol>())
            {
                if (overridden.Contains(member.OriginalDefinition))
                {
                    continue;
                }
                for (var replaced = member.OverriddenMethod; replaced is not null; replaced = replaced.OverriddenMethod)
                {
                    overridden.Add(replaced.OriginalDefinition);
                }
                if (IsAction(member, controller, symbols))
                {
                    yield return member;
                }
            }
        }
    }

    // MVC's rules for a method of a controller: public, an ordinary method (no accessor, operator or constructor),
    // neither static, abstract nor generic, not [NonAction] (on it or a method it overrides), not declared by object,
    // and not the controller's IDisposable.Dispose.
    private static bool IsAction(IMethodSymbol method, INamedTypeSymbol controller, KnownSymbols symbols)
    {
        if (method.MethodKind != MethodKind.Ordinary || method.DeclaredAccessibility != Accessibility.Public
            || method.IsStatic || method.IsAbstract || method.IsGenericMethod)
        {
            return false;
        }
        for (var current = method; current is not null; current = current.OverriddenMethod)
        {
            if (current.ContainingType.SpecialType == SpecialType.System_Object || HasAttribute(current, symbols.NonActionAttribute, inherit: false))
            {
                return false;
            }
        }
        return !IsDispose(method, controller, symbols);
    }

    private static bool IsDispose(IMethodSymbol method, INamedTypeSymbol controller, KnownSymbols symbols)
    {
        if (method.Name != nameof(IDisposable.Dispose) || method.Parameters.Length != 0
            || symbols.Disposable.GetMembers(nameof(IDisposable.Dispose)).FirstOrDefault() is not IMethodSymbol dispose)
        {
            return false;
        }
        // The controller's own implementation, or, for a base class a controller may inherit from, its implementation.
        return SymbolEqualityComparer.Default.Equals(controller.FindImplementationForInterfaceMember(dispose), method)
            || SymbolEqualityComparer.Default.Equals(method.ContainingType.FindImplementationForInterfaceMember(dispose), method);
    }

    /// <summary>
    /// The attributes of <paramref name="action"/> as MVC reads them: its own and, for an override, those of the
    /// methods it overrides.
    /// </summary>
    public static IEnumerable<AttributeData> ActionAttributes(IMethodSymbol action)
    {
        for (var current = action; current is not null; current = current.OverriddenMethod)
        {
            foreach (var attribute in current.GetAttributes())
            {
                yield return attribute;
            }
        }
    }

    /// <summary>
    /// The full attribute-route templates of <paramref name="action"/>, or <see langword="null"/> when it is routed by
    /// convention (no attribute routes), which the analyzer cannot see.
    /// </summary>
    public static List<string>? Templates(IMethodSymbol action, INamedTypeSymbol controller, KnownSymbols symbols)
    {
        var prefixes = TemplatesOf(ControllerRouteAttributes(controller, symbols), symbols);
        var own = TemplatesOf(ActionAttributes(action), symbols);
        if (prefixes.Count == 0 && own.Count == 0)
        {
            return null;
        }
        if (prefixes.Count == 0)
        {
            prefixes.Add(null);
        }
        if (own.Count == 0)
        {
            own.Add(null);
        }
        return [.. prefixes.SelectMany(prefix => own.Select(template => RouteTemplate.Combine(prefix, template)))];
    }

    /// <summary>Whether anonymous callers reach <paramref name="action"/>: no [Authorize] on it or its controller, or an [AllowAnonymous].</summary>
    public static bool AllowsAnonymous(IMethodSymbol action, INamedTypeSymbol controller, KnownSymbols symbols)
    {
        var attributes = ActionAttributes(action).Concat(AttributesWithInheritance(controller)).ToList();
        if (attributes.Any(a => symbols.Implements(a.AttributeClass, symbols.AllowAnonymous)))
        {
            return true;
        }
        return !attributes.Any(a => symbols.Implements(a.AttributeClass, symbols.AuthorizeData));
    }

    // As MVC reads them: the route attributes of the nearest class in the hierarchy that declares any; those of
    // classes further up are not added to them.
    private static IEnumerable<AttributeData> ControllerRouteAttributes(INamedTypeSymbol controller, KnownSymbols symbols)
    {
        for (var current = controller; current is not null; current = current.BaseType)
        {
            var routes = current.GetAttributes().Where(a => symbols.Implements(a.AttributeClass, symbols.RouteTemplateProvider)).ToList();
            if (routes.Count > 0)
            {
                return routes;
            }
        }
        return [];
    }

    public static IEnumerable<AttributeData> AttributesWithInheritance(INamedTypeSymbol type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            foreach (var attribute in current.GetAttributes())
            {
                yield return attribute;
            }
        }
    }

    private static List<string?> TemplatesOf(IEnumerable<AttributeData> attributes, KnownSymbols symbols)
    {
        var templates = new List<string?>();
        foreach (var attribute in attributes)
        {
            if (!symbols.Implements(attribute.AttributeClass, symbols.RouteTemplateProvider))
            {
                continue;
            }
            // [HttpGet] without a template adds no segment and does not make the action attribute-routed by itself.
            if (attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is string template)
            {
                templates.Add(template);
            }
        }
        return templates;
    }

    private static bool HasAttribute(ISymbol symbol, INamedTypeSymbol? attributeType, bool inherit)
    {
        if (attributeType is null)
        {
            return false;
        }
        if (symbol is INamedTypeSymbol type && inherit)
        {
            return AttributesWithInheritance(type).Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeType));
        }
        return symbol.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeType));
    }
}
