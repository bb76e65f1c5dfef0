using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
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
/// RG0006: raises the capacity to the cost, the smallest bucket that can ever admit the request. Lowering the cost is
/// the other way out, but only the author knows how much the request should cost, so that is not offered.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(CapacityCodeFixProvider)), Shared]
public sealed class CapacityCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["RG0006"];

    /// <summary>Each fix rewrites one limit's capacity argument, so fixes across a document or solution merge cleanly.</summary>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (root is null || diagnostic.AdditionalLocations.Count != 1
                || !diagnostic.Properties.TryGetValue(TokenBucketAnalyzer.RequiredCapacityProperty, out var text)
                || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var cost)
                || root.FindNode(diagnostic.AdditionalLocations[0].SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax capacity
                || capacity.Parent is not (ArgumentSyntax or AttributeArgumentSyntax))
            {
                continue; // only an argument written out can be rewritten
            }
            context.RegisterCodeFix(
                CodeAction.Create($"Raise capacity to {cost}", ct => LiteralReplacement.WithNumberAsync(context.Document, capacity, cost, ct), equivalenceKey: "RG0006"),
                diagnostic);
        }
    }
}
