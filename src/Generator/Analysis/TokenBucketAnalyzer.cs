using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using RateGuard.Generator.Diagnostics;
using RateGuard.Generator.Parsing;

namespace RateGuard.Generator.Analysis;

/// <summary>
/// Reports every misconfigured token-bucket limit at the place it is written, so that a mistake is a squiggle in the
/// editor and an error at build rather than a failure at startup or a limit that silently does nothing.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TokenBucketAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The diagnostic property that lists the route parameters an RG0004 key could use.</summary>
    public const string RouteParametersProperty = "RouteParameters";

    /// <summary>The diagnostic property that lists the wiring calls an RG0010 app lacks.</summary>
    public const string MissingCallsProperty = "MissingCalls";

    /// <summary>The diagnostic property that holds the valid key an RG0003 key was most likely meant to be, when there is one.</summary>
    public const string SuggestedKeyProperty = "SuggestedKey";

    /// <summary>The diagnostic property that holds the capacity an RG0006 limit needs: its cost.</summary>
    public const string RequiredCapacityProperty = "RequiredCapacity";

    public const string AddCall = "AddTokenBuckets";
    public const string UseCall = "UseTokenBuckets";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
    [
        DiagnosticDescriptors.InvalidCapacity,
        DiagnosticDescriptors.InvalidRate,
        DiagnosticDescriptors.InvalidKey,
        DiagnosticDescriptors.UnknownRouteParameter,
        DiagnosticDescriptors.InvalidCost,
        DiagnosticDescriptors.CostAboveCapacity,
        DiagnosticDescriptors.UserKeyOnAnonymousEndpoint,
        DiagnosticDescriptors.ConflictingBucket,
        DiagnosticDescriptors.NotAnEndpointClass,
        DiagnosticDescriptors.NotAnEndpointMethod,
        DiagnosticDescriptors.RuntimeNotWired,
        DiagnosticDescriptors.InvalidResolver,
        DiagnosticDescriptors.InvalidBucketName,
        DiagnosticDescriptors.MiddlewareOutOfOrder,
    ];

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            var symbols = KnownSymbols.Create(start.Compilation);
            if (symbols.TokenBucketAttribute is null)
            {
                return;
            }
            var state = new CompilationState(symbols, start.Compilation);
            start.RegisterSyntaxNodeAction(state.AnalyzeAttribute, SyntaxKind.Attribute);
            start.RegisterOperationAction(state.AnalyzeObjectCreation, OperationKind.ObjectCreation);
            start.RegisterOperationAction(state.AnalyzeInvocation, OperationKind.Invocation);
            start.RegisterOperationAction(state.AnalyzeMethodReference, OperationKind.MethodReference);
            start.RegisterSymbolAction(state.AnalyzeType, SymbolKind.NamedType);
            start.RegisterCompilationEndAction(state.ReportCompilationEnd);
        });
    }

    private sealed class CompilationState(KnownSymbols symbols, Compilation compilation)
    {
        private readonly ConcurrentBag<Location> _usages = [];
        private readonly ConcurrentBag<BucketDeclaration> _buckets = [];
        private readonly ConcurrentBag<(IMethodSymbol Method, Location Location)> _attributedMethods = [];
        private readonly ConcurrentDictionary<IMethodSymbol, bool> _referencedMethods = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<(string Id, Location Location), byte> _reportedOnControllers = new();
        private readonly ConcurrentBag<MiddlewareOrder> _outOfOrder = [];
        private int _addCalled;
        private int _useCalled;
        private int _userKeyed;

        // [TokenBucket(...)] anywhere: its arguments, its bucket, and whether what carries it can be an endpoint.
        public void AnalyzeAttribute(SyntaxNodeAnalysisContext context)
        {
            var syntax = (AttributeSyntax)context.Node;
            if (FindAttributeData(syntax, context.SemanticModel, context.CancellationToken) is not { } found)
            {
                return;
            }
            var (owner, data) = found;
            var parsed = TokenBucketArgumentParser.FromAttribute(data);
            Report(context.ReportDiagnostic, parsed);

            if (owner is IMethodSymbol { MethodKind: MethodKind.Ordinary or MethodKind.LocalFunction } method && !MvcEndpoints.IsInheritableAction(method, symbols))
            {
                _attributedMethods.Add((method, syntax.GetLocation()));
            }
        }

        // new TokenBucketAttribute(...) { ... }, usually passed to WithMetadata.
        public void AnalyzeObjectCreation(OperationAnalysisContext context)
        {
            var creation = (IObjectCreationOperation)context.Operation;
            if (!symbols.Is(creation.Type, symbols.TokenBucketAttribute) || creation.Syntax.Parent is AttributeSyntax)
            {
                return;
            }
            var parsed = TokenBucketArgumentParser.FromObjectCreation(creation);
            Report(context.ReportDiagnostic, parsed);
            // WithMetadata(params object[]) wraps the attribute in a conversion and an array: look a few levels up.
            var parent = creation.Parent;
            for (var depth = 0; depth < 5 && parent is not null and not IInvocationOperation; depth++)
            {
                parent = parent.Parent;
            }
            if (parent is IInvocationOperation { TargetMethod.Name: "WithMetadata" } withMetadata)
            {
                CheckEndpoint(context.ReportDiagnostic, parsed, EndpointSite.ReadReceiver(withMetadata, symbols));
            }
        }

        public void AnalyzeInvocation(OperationAnalysisContext context)
        {
            var invocation = (IInvocationOperation)context.Operation;
            var method = invocation.TargetMethod;
            switch (method.Name)
            {
                // services.AddTokenBuckets(...), not the health-check builder's AddTokenBuckets(), which needs it too.
                case AddCall when method.ContainingNamespace?.ToDisplayString() == "Microsoft.Extensions.DependencyInjection"
                    && (method.ReducedFrom ?? method).Parameters.FirstOrDefault()?.Type.ToDisplayString() == "Microsoft.Extensions.DependencyInjection.IServiceCollection":
                    Interlocked.Exchange(ref _addCalled, 1);
                    return;
                case UseCall when method.ContainingNamespace?.ToDisplayString() == "Microsoft.AspNetCore.Builder":
                    Interlocked.Exchange(ref _useCalled, 1);
                    if (MiddlewareOrder.Read(invocation) is { } order)
                    {
                        _outOfOrder.Add(order);
                    }
                    return;
            }

            if (TokenBucketArgumentParser.IsFluentMethod(method))
            {
                var parsed = TokenBucketArgumentParser.FromFluentCall(invocation);
                Report(context.ReportDiagnostic, parsed);
                CheckEndpoint(context.ReportDiagnostic, parsed, EndpointSite.ReadReceiver(invocation, symbols));
                return;
            }

            if (EndpointSite.IsMapMethod(method, symbols) && EndpointSite.HandlerMethod(invocation) is { } handler)
            {
                var limits = handler.GetAttributes().Where(symbols.IsTokenBucket).ToList();
                if (limits.Count == 0)
                {
                    return;
                }
                var site = EndpointSite.Read(invocation, handler.GetAttributes(), symbols);
                foreach (var limit in limits)
                {
                    CheckEndpoint(context.ReportDiagnostic, TokenBucketArgumentParser.FromAttribute(limit), site);
                }
            }
        }

        public void AnalyzeMethodReference(OperationAnalysisContext context) =>
            _referencedMethods.TryAdd(((IMethodReferenceOperation)context.Operation).Method.OriginalDefinition, true);

        // Controllers: route and user keys against each action; a [TokenBucket] class that is no controller.
        public void AnalyzeType(SymbolAnalysisContext context)
        {
            var type = (INamedTypeSymbol)context.Symbol;
            var classLimits = type.GetAttributes().Where(symbols.IsTokenBucket).ToList();
            if (!MvcEndpoints.IsController(type, symbols))
            {
                if (MvcEndpoints.IsControllerOrBase(type, symbols))
                {
                    return; // an abstract or generic base: its limits are checked on each controller that inherits them
                }
                foreach (var limit in classLimits)
                {
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotAnEndpointClass, limit.ApplicationSyntaxReference?.GetSyntax().GetLocation(), type.Name));
                }
                return;
            }

            // A controller-level limit is checked against each action, and a base class's action from each controller
            // inheriting it: report each finding at its place once in the whole compilation.
            void Report(Diagnostic diagnostic)
            {
                if (_reportedOnControllers.TryAdd((diagnostic.Id, diagnostic.Location), 0))
                {
                    context.ReportDiagnostic(diagnostic);
                }
            }

            var inheritedLimits = MvcEndpoints.AttributesWithInheritance(type).Where(symbols.IsTokenBucket).ToList();
            foreach (var action in MvcEndpoints.Actions(type, symbols))
            {
                var templates = MvcEndpoints.Templates(action, type, symbols);
                var anonymous = MvcEndpoints.AllowsAnonymous(action, type, symbols);
                // Class-level limits are checked against every action; an action's own only against itself, once,
                // from its declaring controller, or from each controller inheriting it from an abstract or generic base.
                var declaredHere = SymbolEqualityComparer.Default.Equals(action.ContainingType, type) || !MvcEndpoints.IsController(action.ContainingType, symbols);
                var ownLimits = declaredHere ? action.GetAttributes().Where(symbols.IsTokenBucket) : [];
                var disabled = action.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == TokenBucketArgumentParser.DisableAttributeMetadataName);
                foreach (var limit in (disabled ? [] : inheritedLimits).Concat(ownLimits))
                {
                    var parsed = TokenBucketArgumentParser.FromAttribute(limit);
                    foreach (var template in templates ?? [])
                    {
                        CheckRoute(Report, parsed, template);
                    }
                    CheckUser(Report, parsed, anonymous);
                }
            }
        }

        public void ReportCompilationEnd(CompilationAnalysisContext context)
        {
            foreach (var (method, location) in _attributedMethods)
            {
                if (!_referencedMethods.ContainsKey(method.OriginalDefinition))
                {
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotAnEndpointMethod, location, method.Name));
                }
            }

            foreach (var group in _buckets.GroupBy(b => b.Name))
            {
                var ordered = group.OrderBy(b => b.Location.SourceTree?.FilePath, System.StringComparer.Ordinal).ThenBy(b => b.Location.SourceSpan.Start).ToList();
                var first = ordered[0];
                foreach (var later in ordered.Skip(1).Where(b => b.Shape != first.Shape))
                {
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ConflictingBucket, later.Location, first.Name, first.Shape, later.Shape));
                }
            }

            ReportMiddlewareOrder(context);

            var isApp = compilation.Options.OutputKind is OutputKind.ConsoleApplication or OutputKind.WindowsApplication;
            var missing = new List<string>();
            if (Volatile.Read(ref _addCalled) == 0)
            {
                missing.Add(AddCall);
            }
            if (Volatile.Read(ref _useCalled) == 0)
            {
                missing.Add(UseCall);
            }
            if (isApp && missing.Count > 0 && !_usages.IsEmpty)
            {
                var first = _usages.OrderBy(l => l.SourceTree?.FilePath, System.StringComparer.Ordinal).ThenBy(l => l.SourceSpan.Start).First();
                var properties = ImmutableDictionary<string, string?>.Empty.Add(MissingCallsProperty, string.Join(",", missing));
                var calls = string.Join(" and ", missing.Select(m => m + "()"));
                var fix = string.Join(" and ", missing.Select(m => m == AddCall ? "builder.Services.AddTokenBuckets(...)" : "app.UseTokenBuckets()"));
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.RuntimeNotWired, first, properties, calls, fix));
            }
        }

        // Routing must run first for the limiter to see an endpoint at all; authentication must run first only when some
        // limit keys on the user, which is known once every limit in the compilation has been read. The code fix moves
        // the call after the last of the later calls, so the later calls ride along as additional locations.
        private void ReportMiddlewareOrder(CompilationAnalysisContext context)
        {
            var userKeyed = Volatile.Read(ref _userKeyed) == 1;
            foreach (var order in _outOfOrder)
            {
                var routing = order.RoutingAfter is not null;
                var authentication = order.AuthenticationAfter is not null && userKeyed;
                if (!routing && !authentication)
                {
                    continue;
                }
                var calls = routing && authentication ? "UseRouting() and UseAuthentication()" : routing ? "UseRouting()" : "UseAuthentication()";
                var reason = routing
                    ? "no endpoint has been chosen when it runs and every request is admitted without a limit"
                    : "the user is not yet authenticated when it runs and every request to an endpoint keyed on \"user\" or a claim is rejected with 403";
                if (routing && authentication)
                {
                    reason += "; limits keyed on \"user\" or a claim also need the authenticated user";
                }
                var anchors = new[] { order.RoutingAfter, order.AuthenticationAfter }.Where(l => l is not null).Select(l => l!);
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.MiddlewareOutOfOrder, order.Use, anchors, calls, reason));
            }
        }

        private void Report(System.Action<Diagnostic> report, ParsedTokenBucket parsed)
        {
            if (parsed.Location is { } location)
            {
                _usages.Add(location);
            }
            if (parsed.KeyResolver.Value is null && parsed.Key.IsConstant && TokenBucketKey.TryParse(parsed.Key.Value, out var kind, out _)
                && kind is TokenBucketKeyKind.User or TokenBucketKeyKind.Claim)
            {
                Interlocked.Exchange(ref _userKeyed, 1);
            }
            foreach (var diagnostic in TokenBucketValidator.Validate(parsed, symbols.ResolverInterface))
            {
                report(diagnostic);
            }
            if (parsed.Bucket.IsConstant && parsed.Bucket.Value is { } name && parsed.Capacity.IsConstant && parsed.Rate.IsConstant && parsed.Key.IsConstant && parsed.KeyResolver.IsConstant)
            {
                var key = parsed.KeyResolver.Value is { } resolver ? "KeyResolver = typeof(" + resolver.ToDisplayString() + ")" : "key \"" + parsed.Key.Value + "\"";
                var shape = string.Format(CultureInfo.InvariantCulture, "capacity {0}, rate {1} and {2}", parsed.Capacity.Value, parsed.Rate.Value.ToString("R", CultureInfo.InvariantCulture), key);
                _buckets.Add(new BucketDeclaration(name, shape, parsed.Bucket.Location ?? parsed.Location!));
            }
        }

        private void CheckEndpoint(System.Action<Diagnostic> report, ParsedTokenBucket parsed, EndpointSite? site)
        {
            if (site is null)
            {
                return;
            }
            if (site.Template is { } template)
            {
                CheckRoute(report, parsed, template);
            }
            CheckUser(report, parsed, site.AllowsAnonymous);
        }

        private static void CheckRoute(System.Action<Diagnostic> report, ParsedTokenBucket parsed, string template)
        {
            if (parsed.KeyResolver.Value is not null || !parsed.Key.IsConstant
                || !TokenBucketKey.TryParse(parsed.Key.Value, out var kind, out var name) || kind != TokenBucketKeyKind.Route)
            {
                return;
            }
            var parameters = RouteTemplate.Parameters(template);
            if (RouteTemplate.Contains(parameters, name!))
            {
                return;
            }
            var choices = parameters.Count == 0 ? "a key of another kind (the template has no parameters)" : "one of its parameters: " + string.Join(", ", parameters);
            var properties = ImmutableDictionary<string, string?>.Empty.Add(RouteParametersProperty, string.Join(",", parameters));
            report(Diagnostic.Create(DiagnosticDescriptors.UnknownRouteParameter, parsed.Key.Location, properties, name, template, choices));
        }

        private static void CheckUser(System.Action<Diagnostic> report, ParsedTokenBucket parsed, bool allowsAnonymous)
        {
            if (!allowsAnonymous || parsed.KeyResolver.Value is not null || !parsed.Key.IsConstant
                || !TokenBucketKey.TryParse(parsed.Key.Value, out var kind, out _) || kind is not (TokenBucketKeyKind.User or TokenBucketKeyKind.Claim))
            {
                return;
            }
            report(Diagnostic.Create(DiagnosticDescriptors.UserKeyOnAnonymousEndpoint, parsed.Key.Location, parsed.Key.Value));
        }

        private (ISymbol Owner, AttributeData Data)? FindAttributeData(AttributeSyntax syntax, SemanticModel model, System.Threading.CancellationToken cancellationToken)
        {
            if (model.GetSymbolInfo(syntax, cancellationToken).Symbol is not IMethodSymbol { ContainingType: var type } || !symbols.Is(type, symbols.TokenBucketAttribute))
            {
                return null;
            }
            var owner = syntax.Parent?.Parent switch
            {
                AnonymousFunctionExpressionSyntax lambda => model.GetSymbolInfo(lambda, cancellationToken).Symbol,
                { } declaration => model.GetDeclaredSymbol(declaration, cancellationToken),
                _ => null,
            };
            var data = owner?.GetAttributes().FirstOrDefault(a => a.ApplicationSyntaxReference?.Span == syntax.Span && a.ApplicationSyntaxReference.SyntaxTree == syntax.SyntaxTree);
            return owner is null || data is null ? null : (owner, data);
        }
    }

    private sealed record BucketDeclaration(string Name, string Shape, Location Location);
}
