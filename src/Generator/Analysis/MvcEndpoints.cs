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
        method.MethodKind == MethodKind.Ordinary
        && !method.IsStatic
        && !method.IsGenericMethod
        && method.DeclaredAccessibility == Accessibility.Public
        && method.ContainingType is { } type && IsControllerOrBase(type, symbols)
        && !HasAttribute(method, symbols.NonActionAttribute, inherit: false);

    public static IEnumerable<IMethodSymbol> Actions(INamedTypeSymbol controller, KnownSymbols symbols)
    {
        for (var type = controller; type is not null && type.SpecialType != SpecialType.System_Object && !symbols.Is(type, symbols.ControllerBase); type = type.BaseType)
        {
            foreach (var member in type.GetMembers().OfType<IMethodSymbol>())
            {
                if (member.MethodKind == MethodKind.Ordinary && !member.IsStatic && member.DeclaredAccessibility == Accessibility.Public && !member.IsOverride
                    && !HasAttribute(member, symbols.NonActionAttribute, inherit: false))
                {
                    yield return member;
                }
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
        var own = TemplatesOf(action.GetAttributes(), symbols);
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
        var attributes = action.GetAttributes().Concat(AttributesWithInheritance(controller)).ToList();
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
