using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using RateGuard.Generator.Diagnostics;
using RateGuard.Generator.Parsing;

namespace RateGuard.Generator.Analysis;

/// <summary>
/// The checks that need every limit and call in the compilation: a method never passed to a Map* call (RG0009), a
/// shared bucket declared two ways (RG0008), a runtime never wired (RG0010) and middleware out of order (RG0013). They
/// collect facts while the compilation is analysed and report once it has been, so they appear at build and with
/// full-solution analysis, not as one document is typed; their descriptors say so with the CompilationEnd tag.
/// </summary>
internal sealed class CompilationEndChecks(Compilation compilation)
{
    private readonly ConcurrentBag<Location> _usages = [];
    private readonly ConcurrentBag<BucketDeclaration> _buckets = [];
    private readonly ConcurrentBag<(IMethodSymbol Method, Location Location)> _attributedMethods = [];
    private readonly ConcurrentDictionary<IMethodSymbol, bool> _referencedMethods = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentBag<MiddlewareOrder> _outOfOrder = [];
    private readonly ConcurrentBag<(Location Location, string Setting)> _legacyRouting = [];
    private int _controllerLimited;
    private int _addCalled;
    private int _useCalled;
    private int _userKeyed;

    /// <summary>Records a limit wherever it is written: where the app uses limits, its key, and its bucket's shape.</summary>
    public void AddLimit(ParsedTokenBucket parsed)
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
        AddBucket(parsed);
    }

    /// <summary>Records a declared limit (<c>[assembly: TokenBucketLimit]</c>): its bucket's shape, which every use of the bucket's name must agree with.</summary>
    public void AddDeclaration(ParsedTokenBucket declaration) => AddBucket(declaration);

    /// <summary>How a limit's bucket is shaped, for messages: <c>capacity 10, rate 1 and key "user"</c>.</summary>
    public static string Shape(ParsedTokenBucket parsed)
    {
        var key = parsed.KeyResolver.Value is { } resolver ? "KeyResolver = typeof(" + resolver.ToDisplayString() + ")" : "key \"" + parsed.Key.Value + "\"";
        return string.Format(CultureInfo.InvariantCulture, "capacity {0}, rate {1} and {2}", parsed.Capacity.Value, parsed.Rate.Value.ToString("R", CultureInfo.InvariantCulture), key);
    }

    private void AddBucket(ParsedTokenBucket parsed)
    {
        if (parsed.Bucket.IsConstant && parsed.Bucket.Value is { } name && parsed.Capacity.IsConstant && parsed.Rate.IsConstant && parsed.Key.IsConstant && parsed.KeyResolver.IsConstant)
        {
            _buckets.Add(new BucketDeclaration(name, Shape(parsed), parsed.Bucket.Location ?? parsed.Location!, parsed.Source == TokenBucketSource.Declaration));
        }
    }

    /// <summary>Records that a controller or one of its actions carries a limit: legacy routing would leave it unapplied.</summary>
    public void AddControllerLimit() => Interlocked.Exchange(ref _controllerLimited, 1);

    // MvcOptions.EnableEndpointRouting = false, in a lambda or an object initializer.
    public void AnalyzeAssignment(OperationAnalysisContext context)
    {
        var assignment = (ISimpleAssignmentOperation)context.Operation;
        if (assignment.Target is IPropertyReferenceOperation { Property: { Name: "EnableEndpointRouting" } property }
            && property.ContainingType.ToDisplayString() == "Microsoft.AspNetCore.Mvc.MvcOptions"
            && assignment.Value.ConstantValue is { HasValue: true, Value: false })
        {
            _legacyRouting.Add((assignment.Syntax.GetLocation(), "EnableEndpointRouting = false"));
        }
    }

    /// <summary>Records a method that carries [TokenBucket] and is an endpoint only if some Map* call is passed it.</summary>
    public void AddAttributedMethod(IMethodSymbol method, Location location) => _attributedMethods.Add((method, location));

    public void AnalyzeMethodReference(OperationAnalysisContext context) =>
        _referencedMethods.TryAdd(((IMethodReferenceOperation)context.Operation).Method.OriginalDefinition, true);

    // The calls that wire the runtime, and where UseTokenBuckets() stands among the middleware.
    public void AnalyzeInvocation(OperationAnalysisContext context)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        switch (method.Name)
        {
            // services.AddTokenBuckets(...), not the health-check builder's AddTokenBuckets(), which needs it too.
            case TokenBucketAnalyzer.AddCall when method.ContainingNamespace?.ToDisplayString() == "Microsoft.Extensions.DependencyInjection"
                && (method.ReducedFrom ?? method).Parameters.FirstOrDefault()?.Type.ToDisplayString() == "Microsoft.Extensions.DependencyInjection.IServiceCollection":
                Interlocked.Exchange(ref _addCalled, 1);
                break;
            case TokenBucketAnalyzer.UseCall when method.ContainingNamespace?.ToDisplayString() == "Microsoft.AspNetCore.Builder":
                Interlocked.Exchange(ref _useCalled, 1);
                if (MiddlewareOrder.Read(invocation) is { } order)
                {
                    _outOfOrder.Add(order);
                }
                break;
            case "UseMvc" or "UseMvcWithDefaultRoute" when method.ContainingType.ToDisplayString() == "Microsoft.AspNetCore.Builder.MvcApplicationBuilderExtensions":
                _legacyRouting.Add((invocation.Syntax.GetLocation(), method.Name + "()"));
                break;
        }
    }

    public void Report(CompilationAnalysisContext context)
    {
        ReportLegacyRouting(context);
        ReportUnmappedMethods(context);
        ReportConflictingBuckets(context);
        ReportMiddlewareOrder(context);
        ReportMissingWiring(context);
    }

    private void ReportLegacyRouting(CompilationAnalysisContext context)
    {
        if (Volatile.Read(ref _controllerLimited) == 0)
        {
            return;
        }
        foreach (var (location, setting) in _legacyRouting)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.LegacyMvcRouting, location, setting));
        }
    }

    // A method is an endpoint's handler only when a Map* call somewhere in the compilation is passed it.
    private void ReportUnmappedMethods(CompilationAnalysisContext context)
    {
        foreach (var (method, location) in _attributedMethods)
        {
            if (!_referencedMethods.ContainsKey(method.OriginalDefinition))
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotAnEndpointMethod, location, method.Name));
            }
        }
    }

    // The first declaration of a bucket, a declared limit before any other and then in file and position order, is the
    // one the others must agree with.
    private void ReportConflictingBuckets(CompilationAnalysisContext context)
    {
        foreach (var group in _buckets.GroupBy(b => b.Name))
        {
            var ordered = group.OrderBy(b => b.IsLimit ? 0 : 1)
                .ThenBy(b => b.Location.SourceTree?.FilePath, System.StringComparer.Ordinal).ThenBy(b => b.Location.SourceSpan.Start).ToList();
            var first = ordered[0];
            foreach (var later in ordered.Skip(1).Where(b => b.Shape != first.Shape))
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ConflictingBucket, later.Location, first.Name, first.Shape, later.Shape));
            }
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

    // An app that uses limits but never adds or uses the runtime: reported once, at its first limit.
    private void ReportMissingWiring(CompilationAnalysisContext context)
    {
        var isApp = compilation.Options.OutputKind is OutputKind.ConsoleApplication or OutputKind.WindowsApplication;
        var missing = new List<string>();
        if (Volatile.Read(ref _addCalled) == 0)
        {
            missing.Add(TokenBucketAnalyzer.AddCall);
        }
        if (Volatile.Read(ref _useCalled) == 0)
        {
            missing.Add(TokenBucketAnalyzer.UseCall);
        }
        if (isApp && missing.Count > 0 && !_usages.IsEmpty)
        {
            var first = _usages.OrderBy(l => l.SourceTree?.FilePath, System.StringComparer.Ordinal).ThenBy(l => l.SourceSpan.Start).First();
            var properties = ImmutableDictionary<string, string?>.Empty.Add(TokenBucketAnalyzer.MissingCallsProperty, string.Join(",", missing));
            var calls = string.Join(" and ", missing.Select(m => m + "()"));
            var fix = string.Join(" and ", missing.Select(m => m == TokenBucketAnalyzer.AddCall ? "builder.Services.AddTokenBuckets(...)" : "app.UseTokenBuckets()"));
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.RuntimeNotWired, first, properties, calls, fix));
        }
    }

    private sealed record BucketDeclaration(string Name, string Shape, Location Location, bool IsLimit);
}
