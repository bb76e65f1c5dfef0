using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RateGuard.Generator.Analysis;

namespace RateGuard.CodeFixes;

/// <summary>
/// RG0010: adds the missing wiring where the app builds itself: <c>AddTokenBuckets(...)</c> before
/// <c>builder.Build()</c>, and <c>UseTokenBuckets()</c> after it (after routing, authentication and authorization, when
/// the app calls them there).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(WiringCodeFixProvider)), Shared]
public sealed class WiringCodeFixProvider : CodeFixProvider
{
    private const string BuilderType = "Microsoft.AspNetCore.Builder.WebApplicationBuilder";
    private const string BuilderNamespace = "Microsoft.AspNetCore.Builder";
    private const string DependencyInjectionNamespace = "Microsoft.Extensions.DependencyInjection";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["RG0010"];

    /// <summary>
    /// RG0010 is reported once per project, so Fix All wires each project once, even over a whole solution: no call
    /// can be added twice.
    /// </summary>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics.First();
        var missing = diagnostic.Properties.TryGetValue(TokenBucketAnalyzer.MissingCallsProperty, out var list) && list is not null
            ? list.Split(',')
            : [TokenBucketAnalyzer.AddCall, TokenBucketAnalyzer.UseCall];
        if (await FindBuildAsync(context.Document.Project, context.CancellationToken).ConfigureAwait(false) is not { } site)
        {
            return; // no builder.Build() in this project to anchor the calls to
        }
        context.RegisterCodeFix(
            CodeAction.Create("Wire token buckets: " + string.Join(" and ", missing.Select(m => m + "()")), ct => WireAsync(context.Document.Project.Solution, site, missing, ct), equivalenceKey: "RG0010"),
            diagnostic);
    }

    private static async Task<Solution> WireAsync(Solution solution, BuildSite site, IReadOnlyCollection<string> missing, CancellationToken cancellationToken)
    {
        var document = solution.GetDocument(site.DocumentId)!;
        var root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        var anchor = root.FindNode(site.Span).FirstAncestorOrSelf<StatementSyntax>()!;
        var host = (SyntaxNode?)anchor.Parent as GlobalStatementSyntax ?? (SyntaxNode)anchor;
        var after = host;

        if (missing.Contains(TokenBucketAnalyzer.UseCall))
        {
            // Keep an explicit UseRouting() ahead of the limiter, so it sees the chosen endpoint (RG0013), and
            // authentication and authorization too, so user and claim keys can be read.
            foreach (var sibling in Siblings(host).SkipWhile(s => s != host).Skip(1))
            {
                var text = sibling.ToString();
                if (text.Contains(site.App + ".UseRouting(") || text.Contains(site.App + ".UseAuthentication(") || text.Contains(site.App + ".UseAuthorization("))
                {
                    after = sibling;
                }
            }
        }

        var tracked = root.TrackNodes(host, after);
        if (missing.Contains(TokenBucketAnalyzer.UseCall))
        {
            var target = tracked.GetCurrentNode(after)!;
            tracked = tracked.InsertNodesAfter(target, [Statement($"{site.App}.UseTokenBuckets();", target)]);
        }
        if (missing.Contains(TokenBucketAnalyzer.AddCall))
        {
            var target = tracked.GetCurrentNode(host)!;
            tracked = tracked.InsertNodesBefore(target, [Statement($"{site.Builder}.Services.AddTokenBuckets({site.Builder}.Configuration.GetSection(\"TokenBuckets\"));", target)]);
        }
        // The calls are extension methods: a project without implicit usings needs their namespaces imported.
        var imported = await ImportedNamespacesAsync(document, cancellationToken).ConfigureAwait(false);
        if (missing.Contains(TokenBucketAnalyzer.AddCall) && !imported.Contains(DependencyInjectionNamespace))
        {
            tracked = Import(tracked, DependencyInjectionNamespace);
        }
        if (missing.Contains(TokenBucketAnalyzer.UseCall) && !imported.Contains(BuilderNamespace))
        {
            tracked = Import(tracked, BuilderNamespace);
        }
        return solution.WithDocumentSyntaxRoot(site.DocumentId, tracked);
    }

    // The namespaces the document imports for all of its code: its own file-level usings and the project's global ones
    // (implicit usings arrive that way, from a generated file).
    private static async Task<HashSet<string>> ImportedNamespacesAsync(Document document, CancellationToken cancellationToken)
    {
        var imported = new HashSet<string>(StringComparer.Ordinal);
        var compilation = await document.Project.GetCompilationAsync(cancellationToken).ConfigureAwait(false);
        var own = await document.GetSyntaxTreeAsync(cancellationToken).ConfigureAwait(false);
        foreach (var tree in compilation?.SyntaxTrees ?? [])
        {
            if (await tree.GetRootAsync(cancellationToken).ConfigureAwait(false) is not CompilationUnitSyntax unit)
            {
                continue;
            }
            foreach (var directive in unit.Usings)
            {
                if (directive.Alias is null && directive.StaticKeyword.IsKind(SyntaxKind.None) && directive.Name is { } name
                    && (tree == own || directive.GlobalKeyword.IsKind(SyntaxKind.GlobalKeyword)))
                {
                    imported.Add(name.ToString());
                }
            }
        }
        return imported;
    }

    // Adds "using <namespace>;" among the file's usings, in ordinal order, with the file's own line ending.
    private static SyntaxNode Import(SyntaxNode root, string name)
    {
        if (root is not CompilationUnitSyntax unit)
        {
            return root;
        }
        var newLine = unit.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia));
        var directive = SyntaxFactory.UsingDirective(SyntaxFactory.ParseName(name))
            .WithUsingKeyword(SyntaxFactory.Token(SyntaxKind.UsingKeyword).WithTrailingTrivia(SyntaxFactory.Space))
            .WithTrailingTrivia(newLine.IsKind(SyntaxKind.EndOfLineTrivia) ? newLine : SyntaxFactory.CarriageReturnLineFeed);
        var index = 0;
        while (index < unit.Usings.Count && string.CompareOrdinal(unit.Usings[index].Name?.ToString(), name) < 0)
        {
            index++;
        }
        return unit.WithUsings(unit.Usings.Insert(index, directive));
    }

    private static IEnumerable<SyntaxNode> Siblings(SyntaxNode node) => node.Parent?.ChildNodes() ?? [];

    // A statement shaped like its neighbour: the same indentation and line ending, top-level or inside a block.
    private static SyntaxNode Statement(string code, SyntaxNode neighbour)
    {
        var statement = SyntaxFactory.ParseStatement(code)
            .WithLeadingTrivia(neighbour.GetLeadingTrivia().Where(t => t.IsKind(SyntaxKind.WhitespaceTrivia)))
            .WithTrailingTrivia(neighbour.GetTrailingTrivia().Where(t => t.IsKind(SyntaxKind.EndOfLineTrivia)));
        return neighbour is GlobalStatementSyntax ? SyntaxFactory.GlobalStatement(statement) : statement;
    }

    private static async Task<BuildSite?> FindBuildAsync(Project project, CancellationToken cancellationToken)
    {
        foreach (var document in project.Documents)
        {
            var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            if (root is null || !root.DescendantNodes().OfType<InvocationExpressionSyntax>().Any(IsBuildCall))
            {
                continue;
            }
            var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
            foreach (var declarator in root.DescendantNodes().OfType<VariableDeclaratorSyntax>())
            {
                if (declarator.Initializer?.Value is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax access } call
                    && IsBuildCall(call)
                    && model?.GetTypeInfo(access.Expression, cancellationToken).Type?.ToDisplayString() == BuilderType)
                {
                    return new BuildSite(document.Id, declarator.Span, access.Expression.ToString(), declarator.Identifier.ValueText);
                }
            }
        }
        return null;
    }

    private static bool IsBuildCall(InvocationExpressionSyntax call) =>
        call.Expression is MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Build" } && call.ArgumentList.Arguments.Count == 0;

    private sealed record BuildSite(DocumentId DocumentId, Microsoft.CodeAnalysis.Text.TextSpan Span, string Builder, string App);
}
