using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using RateGuard.Generator.Diagnostics;

namespace RateGuard.Generator.Analysis;

/// <summary>
/// Reports every misconfigured token-bucket limit at the place it is written, so that a mistake is a squiggle in the
/// editor and an error at build rather than a failure at startup or a limit that silently does nothing.
/// </summary>
/// <remarks>
/// <see cref="EndpointChecks"/> judges each limit where it is written, which the IDE does as you type;
/// <see cref="CompilationEndChecks"/> judges what needs every limit and call in the compilation, once all are read.
/// </remarks>
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
        DiagnosticDescriptors.UnknownRoutePlanParameter,
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
        DiagnosticDescriptors.PerEndpointWithBucket,
        DiagnosticDescriptors.LegacyMvcRouting,
        DiagnosticDescriptors.UnknownLimit,
        DiagnosticDescriptors.DuplicateLimit,
        DiagnosticDescriptors.NamedLimitWithSettings,
        DiagnosticDescriptors.InvalidPlan,
        DiagnosticDescriptors.InvalidPlanResolver,
        DiagnosticDescriptors.InvalidExemptNetwork,
        DiagnosticDescriptors.ClaimPlanOnAnonymousEndpoint,
        DiagnosticDescriptors.InvalidCount,
        DiagnosticDescriptors.InvalidCountRule,
        DiagnosticDescriptors.InvalidMaxCost,
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
            var compilationEnd = new CompilationEndChecks(start.Compilation);
            var declarations = new LimitDeclarations(start.Compilation, symbols.TokenBucketLimitAttribute);
            var endpoints = new EndpointChecks(symbols, new RouteBuilders(symbols), compilationEnd, declarations);
            start.RegisterSyntaxNodeAction(endpoints.AnalyzeAttribute, SyntaxKind.Attribute);
            start.RegisterOperationAction(endpoints.AnalyzeObjectCreation, OperationKind.ObjectCreation);
            start.RegisterOperationAction(endpoints.AnalyzeInvocation, OperationKind.Invocation);
            start.RegisterSymbolAction(endpoints.AnalyzeType, SymbolKind.NamedType);
            if (symbols.TokenBucketOptions is not null)
            {
                start.RegisterOperationAction(new ExemptNetworkChecks(symbols).AnalyzePropertyReference, OperationKind.PropertyReference);
            }
            start.RegisterOperationAction(compilationEnd.AnalyzeInvocation, OperationKind.Invocation);
            start.RegisterOperationAction(compilationEnd.AnalyzeMethodReference, OperationKind.MethodReference);
            start.RegisterOperationAction(compilationEnd.AnalyzeAssignment, OperationKind.SimpleAssignment);
            start.RegisterCompilationEndAction(compilationEnd.Report);
        });
    }
}
