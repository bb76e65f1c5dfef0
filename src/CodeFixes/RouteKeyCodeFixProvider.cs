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

/// <summary>RG0004: offers each parameter the route template does have as the route key.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RouteKeyCodeFixProvider)), Shared]
public sealed class RouteKeyCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["RG0004"];

    /// <summary>
    /// Fix All applies the parameter that was chosen, by name, to every key whose route has a parameter of that name;
    /// keys whose routes lack it are left for their own choice. Each fix replaces one literal, so they merge cleanly.
    /// </summary>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax key
                || !diagnostic.Properties.TryGetValue(TokenBucketAnalyzer.RouteParametersProperty, out var list) || string.IsNullOrEmpty(list))
            {
                continue;
            }
            foreach (var parameter in list!.Split(',').Distinct())
            {
                context.RegisterCodeFix(
                    CodeAction.Create($"Use route value '{parameter}'", ct => LiteralReplacement.WithStringAsync(context.Document, key, "route:" + parameter, ct), equivalenceKey: "RG0004:" + parameter),
                    diagnostic);
            }
        }
    }
}
