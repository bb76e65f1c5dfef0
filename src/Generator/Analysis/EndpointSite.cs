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
    private const int MaxDepth = 8;

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
    public static EndpointSite Read(IInvocationOperation map, IEnumerable<AttributeData> handlerAttributes, KnownSymbols symbols)
    {
        var pattern = Argument(map, "pattern")?.ConstantValue is { HasValue: true, Value: string p } ? p : null;
        var prefix = PrefixOf(Argument(map, "endpoints"), symbols, 0, out var groupAllowsAnonymous, out var isRoot);
        var template = pattern is null || prefix is null ? null : RouteTemplate.CombineGroup(prefix, pattern);

        var attributes = handlerAttributes.ToList();
        var allowAnonymous = attributes.Any(a => symbols.Implements(a.AttributeClass, symbols.AllowAnonymous));
        var authorized = attributes.Any(a => symbols.Implements(a.AttributeClass, symbols.AuthorizeData));
        var chain = ConventionsApplied(map.Syntax, out var chainIsComplete);
        allowAnonymous |= chain.Contains("AllowAnonymous") || groupAllowsAnonymous;
        authorized |= chain.Contains("RequireAuthorization");

        // Only a root endpoint whose conventions are all in view is certainly anonymous; a group or a builder kept in a
        // variable may be given RequireAuthorization elsewhere.
        var anonymous = allowAnonymous || (!authorized && isRoot && chainIsComplete);
        return new EndpointSite(template, anonymous);
    }

    /// <summary>Reads the site of the endpoint a convention call such as <c>.RequireTokenBucket(...)</c> is applied to, when that is a <c>Map*</c> call.</summary>
    public static EndpointSite? ReadReceiver(IInvocationOperation convention, KnownSymbols symbols)
    {
        var receiver = Unwrap(convention.Instance ?? convention.Arguments.FirstOrDefault()?.Value);
        while (receiver is IInvocationOperation call && !IsMapMethod(call.TargetMethod, symbols) && call.TargetMethod.Name != "MapGroup" && (call.TargetMethod.IsExtensionMethod || call.TargetMethod.ReducedFrom is not null))
        {
            receiver = Unwrap(call.Instance ?? call.Arguments.FirstOrDefault()?.Value);
        }
        if (receiver is IInvocationOperation map && IsMapMethod(map.TargetMethod, symbols))
        {
            return Read(map, HandlerAttributes(map), symbols);
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

    private static string? PrefixOf(IOperation? receiver, KnownSymbols symbols, int depth, out bool allowsAnonymous, out bool isRoot)
    {
        allowsAnonymous = false;
        isRoot = false;
        receiver = Unwrap(receiver);
        if (receiver is null || depth > MaxDepth)
        {
            return null;
        }
        if (!symbols.DerivesFrom(receiver.Type, symbols.RouteGroupBuilder))
        {
            // Only the app itself certainly has no prefix. Any other endpoint route builder (an IEndpointRouteBuilder
            // parameter of a MapOrders(this IEndpointRouteBuilder) extension, say) may be a group made elsewhere.
            isRoot = symbols.DerivesFrom(receiver.Type, symbols.WebApplication);
            return isRoot ? "" : null;
        }
        switch (receiver)
        {
            case IInvocationOperation { TargetMethod.Name: "MapGroup" } group:
                var groupPrefix = Argument(group, "prefix")?.ConstantValue is { HasValue: true, Value: string g } ? g : null;
                var outer = PrefixOf(Argument(group, "endpoints"), symbols, depth + 1, out allowsAnonymous, out _);
                return groupPrefix is null || outer is null ? null : RouteTemplate.CombineGroup(outer, groupPrefix);
            case IInvocationOperation convention when convention.TargetMethod.IsExtensionMethod || convention.TargetMethod.ReducedFrom is not null:
                var inner = PrefixOf(convention.Instance ?? convention.Arguments.FirstOrDefault()?.Value, symbols, depth + 1, out allowsAnonymous, out _);
                allowsAnonymous |= convention.TargetMethod.Name == "AllowAnonymous";
                return inner;
            case ILocalReferenceOperation local:
                var declarator = local.Local.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() as VariableDeclaratorSyntax;
                var model = receiver.SemanticModel;
                if (declarator?.Initializer?.Value is { } value && model is not null && model.SyntaxTree == declarator.SyntaxTree)
                {
                    return PrefixOf(model.GetOperation(value), symbols, depth + 1, out allowsAnonymous, out _);
                }
                return null;
            default:
                return null;
        }
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

    private static IOperation? Unwrap(IOperation? operation)
    {
        while (operation is IConversionOperation conversion)
        {
            operation = conversion.Operand;
        }
        return operation;
    }
}
