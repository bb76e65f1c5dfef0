using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using RateGuard.Generator.Diagnostics;
using RateGuard.Generator.Parsing;

namespace RateGuard.Generator.Analysis;

/// <summary>
/// The checks that need only the limit and the endpoint it is written on: its arguments, its route and user keys, and
/// a limit on a class that is no controller. They report as soon as the code they read is analysed, in the editor as
/// it is typed. What needs the whole compilation they pass on to <see cref="CompilationEndChecks"/>.
/// </summary>
internal sealed class EndpointChecks(KnownSymbols symbols, RouteBuilders builders, CompilationEndChecks compilationEnd, LimitDeclarations declarations)
{
    // Keyed by descriptor rather than ID: a key and a plan of one limit may each break a rule of the same ID at one place.
    private readonly ConcurrentDictionary<(DiagnosticDescriptor Descriptor, Location Location, string Action), byte> _reportedOnControllers = new();

    // [TokenBucket(...)] anywhere: its arguments, its bucket, and whether what carries it can be an endpoint.
    public void AnalyzeAttribute(SyntaxNodeAnalysisContext context)
    {
        var syntax = (AttributeSyntax)context.Node;
        if (FindDeclaration(syntax, context.SemanticModel, context.CancellationToken) is { } declared)
        {
            AnalyzeDeclaration(context.ReportDiagnostic, declared);
            return;
        }
        if (FindAttributeData(syntax, context.SemanticModel, context.CancellationToken) is not { } found)
        {
            return;
        }
        var (owner, data) = found;
        var parsed = TokenBucketArgumentParser.FromAttribute(data);
        ReportArguments(context.ReportDiagnostic, parsed);

        if (owner is IMethodSymbol { MethodKind: MethodKind.Ordinary or MethodKind.LocalFunction } method && !MvcEndpoints.IsInheritableAction(method, symbols))
        {
            compilationEnd.AddAttributedMethod(method, syntax.GetLocation());
        }
    }

    // [assembly: TokenBucketLimit(...)]: its arguments, as any limit's, and its name, declared once.
    private void AnalyzeDeclaration(System.Action<Diagnostic> report, AttributeData data)
    {
        var declaration = TokenBucketArgumentParser.FromDeclaration(data);
        foreach (var diagnostic in TokenBucketValidator.Validate(declaration, symbols))
        {
            report(diagnostic);
        }
        if (declarations.Duplicate(declaration) is { } duplicate)
        {
            report(duplicate);
            return;
        }
        compilationEnd.AddDeclaration(declaration);
    }

    // new TokenBucketAttribute(...) { ... }, usually passed to WithMetadata.
    public void AnalyzeObjectCreation(OperationAnalysisContext context)
    {
        var creation = (IObjectCreationOperation)context.Operation;
        // An attribute is read by AnalyzeAttribute. The compiler also gives the attributes of types and members an
        // operation (an object creation over the attribute itself), which must not report their arguments twice.
        if (!symbols.Is(creation.Type, symbols.TokenBucketAttribute) || creation.Syntax is AttributeSyntax || creation.Syntax.Parent is AttributeSyntax)
        {
            return;
        }
        var parsed = ReportArguments(context.ReportDiagnostic, TokenBucketArgumentParser.FromObjectCreation(creation));
        if (parsed is null)
        {
            return;
        }
        // WithMetadata(params object[]) wraps the attribute in a conversion and an array: look a few levels up.
        var parent = creation.Parent;
        for (var depth = 0; depth < 5 && parent is not null and not IInvocationOperation; depth++)
        {
            parent = parent.Parent;
        }
        if (parent is IInvocationOperation { TargetMethod.Name: "WithMetadata" } withMetadata)
        {
            // Metadata is copied onto each endpoint of a group: it is each endpoint's own limit, as PerEndpoint makes it.
            CheckWhereApplied(context.ReportDiagnostic, parsed, withMetadata, sharedOnGroup: false);
        }
    }

    // .RequireTokenBucket(...), and Map* calls whose handler method carries [TokenBucket].
    public void AnalyzeInvocation(OperationAnalysisContext context)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (TokenBucketArgumentParser.IsFluentMethod(method))
        {
            if (ReportArguments(context.ReportDiagnostic, TokenBucketArgumentParser.FromFluentCall(invocation)) is not { } parsed)
            {
                return;
            }
            CheckWhereApplied(context.ReportDiagnostic, parsed, invocation, sharedOnGroup: !(parsed.PerEndpoint.IsConstant && parsed.PerEndpoint.Value));
            return;
        }

        if (EndpointSite.IsMapMethod(method, symbols) && EndpointSite.HandlerMethod(invocation) is { } handler)
        {
            var limits = handler.GetAttributes().Where(symbols.IsTokenBucket).ToList();
            if (limits.Count == 0)
            {
                return;
            }
            var site = EndpointSite.Read(invocation, handler.GetAttributes(), symbols, builders);
            foreach (var limit in limits)
            {
                if (declarations.Resolve(TokenBucketArgumentParser.FromAttribute(limit)) is { } parsed)
                {
                    CheckEndpoint(context.ReportDiagnostic, parsed, site);
                }
            }
        }
    }

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
        // inheriting it: report each finding once in the whole compilation, per place and per action, so that each
        // action a controller's limit does not fit is named.
        var checking = "";
        void Report(Diagnostic diagnostic)
        {
            if (_reportedOnControllers.TryAdd((diagnostic.Descriptor, diagnostic.Location, checking), 0))
            {
                context.ReportDiagnostic(diagnostic);
            }
        }

        var inheritedLimits = MvcEndpoints.AttributesWithInheritance(type).Where(symbols.IsTokenBucket).ToList();
        if (inheritedLimits.Count > 0 || MvcEndpoints.Actions(type, symbols).Any(a => a.GetAttributes().Any(symbols.IsTokenBucket)))
        {
            compilationEnd.AddControllerLimit();
        }
        foreach (var action in MvcEndpoints.Actions(type, symbols))
        {
            checking = action.Name;
            var templates = MvcEndpoints.Templates(action, type, symbols);
            var anonymous = MvcEndpoints.AllowsAnonymous(action, type, symbols);
            // Class-level limits are checked against every action; an action's own only against itself, once,
            // from its declaring controller, or from each controller inheriting it from an abstract or generic base.
            var declaredHere = SymbolEqualityComparer.Default.Equals(action.ContainingType, type) || !MvcEndpoints.IsController(action.ContainingType, symbols);
            var ownLimits = declaredHere ? action.GetAttributes().Where(symbols.IsTokenBucket) : [];
            var disabled = action.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == TokenBucketArgumentParser.DisableAttributeMetadataName);
            foreach (var (limit, onController) in (disabled ? [] : inheritedLimits.Select(l => (l, true))).Concat(ownLimits.Select(l => (l, false))))
            {
                if (declarations.Resolve(TokenBucketArgumentParser.FromAttribute(limit)) is not { } parsed)
                {
                    continue;
                }
                // A controller's limit is one bucket its actions share unless it says otherwise: the message says which.
                var sharing = onController ? Sharing(parsed, shared: !(parsed.PerEndpoint.IsConstant && parsed.PerEndpoint.Value), "controller's actions") : "";
                foreach (var template in templates ?? [])
                {
                    CheckRoute(Report, parsed, template, $"the route template \"{template}\" of action {action.Name}{sharing}{Using(parsed)}");
                }
                CheckUser(Report, parsed, anonymous, $"action {action.Name}{sharing}{Using(parsed)}", onController ? "the controller or the action" : "the action");
            }
        }
    }

    // Every limit is read once, here; the compilation-end checks get what they need of it. A use by name is checked
    // as a use (a declared name, no settings of its own) and stands for its declaration from then on; the limit to
    // check where it applies is returned, or null when the name is not declared.
    private ParsedTokenBucket? ReportArguments(System.Action<Diagnostic> report, ParsedTokenBucket parsed)
    {
        if (parsed.IsUseByName)
        {
            foreach (var diagnostic in declarations.CheckUse(parsed))
            {
                report(diagnostic);
            }
            var resolved = declarations.Resolve(parsed);
            compilationEnd.AddLimit(resolved ?? parsed);
            return resolved;
        }
        compilationEnd.AddLimit(parsed);
        foreach (var diagnostic in TokenBucketValidator.Validate(parsed, symbols))
        {
            report(diagnostic);
        }
        return parsed;
    }

    // A limit put on an endpoint (WithMetadata, RequireTokenBucket) is checked against that endpoint; one put on a route
    // group against the group and the endpoints the analyzer can see mapped on it.
    private void CheckWhereApplied(System.Action<Diagnostic> report, ParsedTokenBucket parsed, IInvocationOperation convention, bool sharedOnGroup)
    {
        if (EndpointSite.ReadReceiver(convention, symbols, builders) is { } endpoint)
        {
            CheckEndpoint(report, parsed, endpoint);
            return;
        }
        var receiver = RouteBuilders.Receiver(convention);
        if (builders.IsGroup(receiver))
        {
            CheckGroup(report, parsed, builders.Read(receiver), sharedOnGroup);
        }
    }

    private static void CheckEndpoint(System.Action<Diagnostic> report, ParsedTokenBucket parsed, EndpointSite? site)
    {
        if (site is null)
        {
            return;
        }
        if (site.Template is { } template)
        {
            CheckRoute(report, parsed, template, $"the route template \"{template}\"{Using(parsed)}");
        }
        CheckUser(report, parsed, site.AllowsAnonymous, "this endpoint" + Using(parsed), "the endpoint");
    }

    // A limit on a group reaches every endpoint of it: a route key each of them lacks, or an endpoint anonymous callers
    // reach, is reported at the limit, naming that endpoint.
    private void CheckGroup(System.Action<Diagnostic> report, ParsedTokenBucket parsed, RouteBuilderSite group, bool shared)
    {
        var sharing = Sharing(parsed, shared, "group's endpoints");
        var endpoints = group.Endpoints.Select(e => EndpointSite.Read(e, EndpointSite.HandlerAttributes(e), symbols, builders)).ToList();

        foreach (var read in RouteReads(parsed))
        {
            if (group.Prefix is not { } prefix || RouteTemplate.Contains(RouteTemplate.Parameters(prefix), read.Name))
            {
                continue;
            }
            var templates = endpoints.Select(e => e.Template).OfType<string>().ToList();
            if (templates.FirstOrDefault(t => !RouteTemplate.Contains(RouteTemplate.Parameters(t), read.Name)) is { } lacking)
            {
                // The fix may offer only a parameter that every endpoint of the group has.
                var common = RouteTemplate.Parameters(templates[0]).Where(p => templates.All(t => RouteTemplate.Contains(RouteTemplate.Parameters(t), p))).ToList();
                ReportRoute(report, parsed, read, common, $"the group's endpoint \"{lacking}\"{sharing}");
            }
        }

        if (group.Access == RouteAccess.Anonymous)
        {
            CheckUser(report, parsed, allowsAnonymous: true, $"the group{sharing}", "the group");
        }
        else if (group.Access == RouteAccess.Open && endpoints.FirstOrDefault(e => e.AllowsAnonymous) is { } open)
        {
            CheckUser(report, parsed, allowsAnonymous: true, $"the group's endpoint \"{open.Template ?? "?"}\"{sharing}", "the group or that endpoint");
        }
    }

    private static void CheckRoute(System.Action<Diagnostic> report, ParsedTokenBucket parsed, string template, string? subject)
    {
        foreach (var read in RouteReads(parsed))
        {
            var parameters = RouteTemplate.Parameters(template);
            if (!RouteTemplate.Contains(parameters, read.Name))
            {
                ReportRoute(report, parsed, read, parameters, subject ?? $"the route template \"{template}\"");
            }
        }
    }

    private static void ReportRoute(System.Action<Diagnostic> report, ParsedTokenBucket parsed, RouteRead read, List<string> parameters, string subject)
    {
        var other = read.IsPlan ? "a plan source of another kind" : "a key of another kind";
        var choices = parameters.Count == 0 ? other + " (the template has no parameters)" : "one of its parameters: " + string.Join(", ", parameters);
        // The fix rewrites the key or plan where it is written; a limit used by name has both in its declaration.
        var properties = parsed.UsedByName is null
            ? ImmutableDictionary<string, string?>.Empty.Add(TokenBucketAnalyzer.RouteParametersProperty, string.Join(",", parameters))
            : ImmutableDictionary<string, string?>.Empty;
        var descriptor = read.IsPlan ? DiagnosticDescriptors.UnknownRoutePlanParameter : DiagnosticDescriptors.UnknownRouteParameter;
        report(Diagnostic.Create(descriptor, read.Location, properties, read.Name, subject, choices));
    }

    // The route values a limit reads: its key's, and its plan's, each when it is a constant "route:<name>" that no
    // resolver replaces.
    private static IEnumerable<RouteRead> RouteReads(ParsedTokenBucket parsed)
    {
        if (parsed.KeyResolver.Value is null && parsed.Key.IsConstant
            && TokenBucketKey.TryParse(parsed.Key.Value, out var keyKind, out var key) && keyKind == TokenBucketKeyKind.Route)
        {
            yield return new RouteRead(key!, parsed.Key.Location, IsPlan: false);
        }
        if (parsed.PlanResolver.Value is null && parsed.Plan.IsConstant
            && TokenBucketKey.TryParsePlan(parsed.Plan.Value, out var planKind, out var plan) && planKind == TokenBucketKeyKind.Route)
        {
            yield return new RouteRead(plan!, parsed.Plan.Location, IsPlan: true);
        }
    }

    // A user or claim key, and a claim plan, read the signed-in user, whom an anonymous caller lacks: the key refuses
    // the caller (RG0007), the plan falls back to the limit's own capacity and rate (RG0022).
    private static void CheckUser(System.Action<Diagnostic> report, ParsedTokenBucket parsed, bool allowsAnonymous, string subject, string fixAt)
    {
        if (!allowsAnonymous)
        {
            return;
        }
        if (parsed.KeyResolver.Value is null && parsed.Key.IsConstant
            && TokenBucketKey.TryParse(parsed.Key.Value, out var kind, out _) && kind is TokenBucketKeyKind.User or TokenBucketKeyKind.Claim)
        {
            report(Diagnostic.Create(DiagnosticDescriptors.UserKeyOnAnonymousEndpoint, parsed.Key.Location, parsed.Key.Value, subject, fixAt));
        }
        if (parsed.PlanResolver.Value is null && parsed.Plan.IsConstant
            && TokenBucketKey.TryParsePlan(parsed.Plan.Value, out var planKind, out _) && planKind == TokenBucketKeyKind.Claim)
        {
            report(Diagnostic.Create(DiagnosticDescriptors.ClaimPlanOnAnonymousEndpoint, parsed.Plan.Location, parsed.Plan.Value, subject, fixAt));
        }
    }

    // Which bucket a limit on a group or a controller is, for the messages: a named one, which every endpoint naming
    // it shares; one its endpoints share; or one for each endpoint.
    private static string Sharing(ParsedTokenBucket parsed, bool shared, string members) =>
        parsed.UsedByName is { } limit ? $" (limit \"{limit}\", whose one bucket every use of it shares)"
        : parsed.Bucket is { IsConstant: true, Value: { } name } ? $" (bucket \"{name}\", which every endpoint naming it shares)"
        : shared ? $" (the {members} share this limit's bucket)"
        : $" (each of the {members} has a bucket of its own under this limit)";

    // For a limit used by name, where a message says which limit carries the key it is about.
    private static string Using(ParsedTokenBucket parsed) =>
        parsed.UsedByName is { } limit ? $" (using limit \"{limit}\")" : "";

    // The AttributeData of an [assembly: TokenBucketLimit(...)], when that is what the syntax is.
    private AttributeData? FindDeclaration(AttributeSyntax syntax, SemanticModel model, System.Threading.CancellationToken cancellationToken)
    {
        if (syntax.Parent is not AttributeListSyntax { Target.Identifier.ValueText: "assembly" }
            || model.GetSymbolInfo(syntax, cancellationToken).Symbol is not IMethodSymbol { ContainingType: var type } || !symbols.Is(type, symbols.TokenBucketLimitAttribute))
        {
            return null;
        }
        return model.Compilation.Assembly.GetAttributes().FirstOrDefault(a => a.ApplicationSyntaxReference?.Span == syntax.Span && a.ApplicationSyntaxReference.SyntaxTree == syntax.SyntaxTree);
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

    // A "route:<name>" the limit reads, as its key or as its plan, and where it is written.
    private sealed record RouteRead(string Name, Location? Location, bool IsPlan);
}
