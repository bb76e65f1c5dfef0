using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace RateGuard.Generator.Analysis;

/// <summary>
/// What the analyzer can tell about a minimal-API endpoint from its <c>Map*</c> call: its full route template when
/// every prefix is known, and whether it definitely admits anonymous callers.
/// </summary>
internal sealed class EndpointSite
{
    private EndpointSite(string? template, bool allowsAnonymous)
    {
        Template = template;
        AllowsAnonymous = allowsAnonymous;
    }

    /// <summary>The full route template, or <see langword="null"/> when a part of it cannot be known.</summary>
    public string? Template { get; }

    /// <summary>Whether the endpoint certainly lets anonymous callers reach its handler (no guess when unsure).</summary>
    public bool AllowsAnonymous { get; }

    /// <summary>Whether <paramref name="method"/> is one of the <c>Map*</c> methods that create an endpoint from a delegate.</summary>
    public static bool IsMapMethod(IMethodSymbol method, KnownSymbols symbols) =>
        method.Name.StartsWith("Map", StringComparison.Ordinal)
        && method.Name != "MapGroup"
        && symbols.Is((method.ReducedFrom ?? method).ContainingType, symbols.EndpointRouteBuilderExtensions);

    /// <summary>Reads the site of a <c>Map*</c> call; <paramref name="handlerAttributes"/> are those of its handler, if any.</summary>
    public static EndpointSite Read(IInvocationOperation map, IEnumerable<AttributeData> handlerAttributes, KnownSymbols symbols, RouteBuilders builders)
    {
        var pattern = Argument(map, "pattern")?.ConstantValue is { HasValue: true, Value: string p } ? p : null;
        var builder = builders.Read(Argument(map, "endpoints"));
        var template = pattern is null || builder.Prefix is null ? null : RouteTemplate.CombineGroup(builder.Prefix, pattern);

        var attributes = handlerAttributes.ToList();
        var allowAnonymous = attributes.Any(a => symbols.Implements(a.AttributeClass, symbols.AllowAnonymous));
        var authorized = attributes.Any(a => symbols.Implements(a.AttributeClass, symbols.AuthorizeData));
        var chain = ConventionsApplied(map.Syntax, out var chainIsComplete);
        allowAnonymous |= chain.Contains("AllowAnonymous") || builder.Access == RouteAccess.Anonymous;
        authorized |= chain.Contains("RequireAuthorization");

        // Only an endpoint whose conventions, and its group's, are all in view is certainly anonymous: a builder kept in
        // a variable or passed on may be given RequireAuthorization elsewhere.
        var anonymous = allowAnonymous || (!authorized && chainIsComplete && builder.Access == RouteAccess.Open);
        return new EndpointSite(template, anonymous);
    }

    /// <summary>Reads the site of the endpoint a convention call such as <c>.RequireTokenBucket(...)</c> is applied to, when that is a <c>Map*</c> call.</summary>
    public static EndpointSite? ReadReceiver(IInvocationOperation convention, KnownSymbols symbols, RouteBuilders builders)
    {
        var receiver = RouteBuilders.Receiver(convention);
        while (receiver is IInvocationOperation call && !IsMapMethod(call.TargetMethod, symbols) && call.TargetMethod.Name != "MapGroup" && (call.TargetMethod.IsExtensionMethod || call.TargetMethod.ReducedFrom is not null))
        {
            receiver = RouteBuilders.Receiver(call);
        }
        if (receiver is IInvocationOperation map && IsMapMethod(map.TargetMethod, symbols))
        {
            return Read(map, HandlerAttributes(map), symbols, builders);
        }
        return null;
    }

    /// <summary>The attributes of the lambda or method passed as the handler of a <c>Map*</c> call.</summary>
    public static IEnumerable<AttributeData> HandlerAttributes(IInvocationOperation map) =>
        HandlerMethod(map)?.GetAttributes() ?? Enumerable.Empty<AttributeData>();

    /// <summary>The lambda, local function or method passed as the handler of a <c>Map*</c> call.</summary>
    public static IMethodSymbol? HandlerMethod(IInvocationOperation map)
    {
        var handler = Unwrap(Argument(map, "handler"));
        return handler switch
        {
            IDelegateCreationOperation { Target: IAnonymousFunctionOperation lambda } => lambda.Symbol,
            IDelegateCreationOperation { Target: IMethodReferenceOperation reference } => reference.Method,
            IAnonymousFunctionOperation lambda => lambda.Symbol,
            IMethodReferenceOperation reference => reference.Method,
            _ => null,
        };
    }

    // The convention calls chained onto a Map* call: app.MapGet(...).RequireAuthorization().WithName(...).
    private static HashSet<string> ConventionsApplied(SyntaxNode map, out bool complete)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var current = map;
        while (current.Parent is MemberAccessExpressionSyntax access && access.Expression == current && access.Parent is InvocationExpressionSyntax invocation)
        {
            names.Add(access.Name.Identifier.ValueText);
            current = invocation;
        }
        // When the builder is kept (assigned, returned, passed on), more conventions may be applied out of sight.
        complete = current.Parent is ExpressionStatementSyntax;
        return names;
    }

    private static IOperation? Argument(IInvocationOperation invocation, string parameterName) =>
        invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == parameterName)?.Value;

    private static IOperation? Unwrap(IOperation? operation) => RouteBuilders.Unwrap(operation);
}
