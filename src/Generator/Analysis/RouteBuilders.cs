using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace RateGuard.Generator.Analysis;

/// <summary>
/// Reads the app or route group that endpoints are mapped on, or a limit is put on, as far as the code shows it: the
/// prefix it adds, the conventions applied to it (in the chain that makes it and wherever a local holding it is used
/// in the same body), and the endpoints mapped on it. A group passed to or returned from code the analyzer does not
/// follow may be given any convention there, and is read as <see cref="RouteAccess.Unknown"/>.
/// </summary>
/// <remarks>One instance per compilation: the uses of each local are scanned once, however many limits ask.</remarks>
internal sealed class RouteBuilders(KnownSymbols symbols)
{
    private const int MaxDepth = 8;

    private readonly ConcurrentDictionary<ILocalSymbol, Uses> _locals = new(SymbolEqualityComparer.Default);

    /// <summary>The site of the builder <paramref name="builder"/> evaluates to.</summary>
    public RouteBuilderSite Read(IOperation? builder) => Read(builder, 0);

    /// <summary>Whether <paramref name="builder"/> is a route group, whatever the analyzer can tell of it.</summary>
    public bool IsGroup(IOperation? builder) => symbols.DerivesFrom(Unwrap(builder)?.Type, symbols.RouteGroupBuilder);

    /// <summary>What a call is made on: its instance, or the first argument of an extension method.</summary>
    public static IOperation? Receiver(IInvocationOperation call) => Unwrap(call.Instance ?? call.Arguments.FirstOrDefault()?.Value);

    public static IOperation? Unwrap(IOperation? operation)
    {
        while (operation is IConversionOperation conversion)
        {
            operation = conversion.Operand;
        }
        return operation;
    }

    private RouteBuilderSite Read(IOperation? operation, int depth)
    {
        operation = Unwrap(operation);
        if (operation is null || depth > MaxDepth)
        {
            return RouteBuilderSite.Unknown;
        }
        if (symbols.DerivesFrom(operation.Type, symbols.WebApplication))
        {
            // The app itself: no prefix, and no convention applies to all of its endpoints.
            return new RouteBuilderSite("", RouteAccess.Open, []);
        }
        if (!symbols.DerivesFrom(operation.Type, symbols.RouteGroupBuilder))
        {
            // Any other endpoint route builder (an IEndpointRouteBuilder parameter, say) may be a group made elsewhere.
            return RouteBuilderSite.Unknown;
        }
        switch (operation)
        {
            case IInvocationOperation { TargetMethod.Name: "MapGroup" } group:
                return ReadGroup(group, depth);
            case IInvocationOperation call when call.TargetMethod.IsExtensionMethod || call.TargetMethod.ReducedFrom is not null:
                // A convention returns the group it is given. One of the app's own may apply conventions of its own.
                var inner = Read(Receiver(call), depth + 1);
                return IsFramework(call.TargetMethod) ? inner : new RouteBuilderSite(inner.Prefix, Max(inner.Access, RouteAccess.Unknown), inner.Endpoints);
            case ILocalReferenceOperation local:
                var declarator = local.Local.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() as VariableDeclaratorSyntax;
                var model = operation.SemanticModel;
                return declarator?.Initializer?.Value is { } value && model is not null && model.SyntaxTree == declarator.SyntaxTree
                    ? Read(model.GetOperation(value), depth + 1)
                    : RouteBuilderSite.Unknown;
            default:
                return RouteBuilderSite.Unknown;
        }
    }

    // A MapGroup call: the prefix and access of the builder it is made on, with its own prefix and conventions added.
    private RouteBuilderSite ReadGroup(IInvocationOperation group, int depth)
    {
        var outer = Read(Argument(group, "endpoints"), depth + 1);
        var own = Argument(group, "prefix")?.ConstantValue is { HasValue: true, Value: string p } ? p : null;
        var prefix = own is null || outer.Prefix is null ? null : RouteTemplate.CombineGroup(outer.Prefix, own);
        if (group.SemanticModel is not { } model)
        {
            return new RouteBuilderSite(prefix, RouteAccess.Unknown, []);
        }
        var uses = Above(group.Syntax, model);
        if (uses.Local is { } local)
        {
            uses = uses.With(_locals.GetOrAdd(local, l => Scan(l, model)));
        }
        return new RouteBuilderSite(prefix, Max(outer.Access, uses.Access), uses.Endpoints);
    }

    // Every use of a local holding a group, in the body that declares it.
    private Uses Scan(ILocalSymbol local, SemanticModel model)
    {
        var declarator = local.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax();
        var scope = declarator?.Ancestors().FirstOrDefault(n => n is BlockSyntax or CompilationUnitSyntax or SwitchSectionSyntax);
        if (scope is null || scope.SyntaxTree != model.SyntaxTree)
        {
            return Uses.Escaped;
        }
        var all = Uses.None;
        foreach (var name in scope.DescendantNodes().OfType<IdentifierNameSyntax>())
        {
            if (name.Identifier.ValueText != local.Name || !SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(name).Symbol, local))
            {
                continue;
            }
            var uses = Above(name, model);
            // Copied to another variable, it may be used anywhere.
            all = all.With(uses.Local is null ? uses : Uses.Escaped);
        }
        return all;
    }

    // The calls chained onto an expression that yields a group, up to the endpoint or nested group mapped on it, the
    // local it is stored in, or the end of the statement. Anything else lets the group out of sight.
    private Uses Above(SyntaxNode expression, SemanticModel model)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var current = expression;
        while (true)
        {
            var parent = current.Parent;
            if (parent is ParenthesizedExpressionSyntax)
            {
                current = parent;
                continue;
            }
            if (parent is MemberAccessExpressionSyntax access && access.Expression == current && access.Parent is InvocationExpressionSyntax invocation
                && model.GetOperation(invocation) is IInvocationOperation call)
            {
                var method = call.TargetMethod;
                if (EndpointSite.IsMapMethod(method, symbols))
                {
                    return new Uses(names, [call], escapes: false, local: null);
                }
                if (method.Name == "MapGroup")
                {
                    // A nested group: what is applied to it from here on is its own.
                    return new Uses(names, [], escapes: false, local: null);
                }
                if (!IsFramework(method))
                {
                    return new Uses(names, [], escapes: true, local: null);
                }
                names.Add(method.Name);
                current = invocation;
                continue;
            }
            if (parent is EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax declarator } && model.GetDeclaredSymbol(declarator) is ILocalSymbol local)
            {
                return new Uses(names, [], escapes: false, local);
            }
            return new Uses(names, [], escapes: parent is not ExpressionStatementSyntax, local: null);
        }
    }

    // ASP.NET Core's conventions and RateGuard's are known; any other method may apply conventions of its own.
    private static bool IsFramework(IMethodSymbol method)
    {
        var assembly = (method.ReducedFrom ?? method).ContainingAssembly?.Name ?? "";
        return assembly.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || assembly == "RateGuard" || assembly.StartsWith("RateGuard.", StringComparison.Ordinal);
    }

    private static IOperation? Argument(IInvocationOperation invocation, string parameterName) =>
        invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == parameterName)?.Value;

    private static RouteAccess Max(RouteAccess a, RouteAccess b) => a > b ? a : b;

    // The conventions seen applied to a group, the endpoints mapped on it, and whether it went out of sight.
    private sealed class Uses(HashSet<string> names, IReadOnlyList<IInvocationOperation> endpoints, bool escapes, ILocalSymbol? local)
    {
        public static readonly Uses None = new([], [], escapes: false, local: null);
        public static readonly Uses Escaped = new([], [], escapes: true, local: null);

        public IReadOnlyList<IInvocationOperation> Endpoints { get; } = endpoints;

        public ILocalSymbol? Local { get; } = local;

        public RouteAccess Access =>
            names.Contains("AllowAnonymous") ? RouteAccess.Anonymous
            : names.Contains("RequireAuthorization") ? RouteAccess.Authorized
            : escapes ? RouteAccess.Unknown
            : RouteAccess.Open;

        public Uses With(Uses other) =>
            new([.. names, .. other.Names], [.. Endpoints, .. other.Endpoints], escapes || other.Escapes, Local);

        private HashSet<string> Names => names;

        private bool Escapes => escapes;
    }
}
