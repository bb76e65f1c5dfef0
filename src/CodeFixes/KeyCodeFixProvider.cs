using System.Collections.Immutable;
using System.Composition;
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
/// RG0003: replaces a key written as a string literal with the valid key it was most likely meant to be, such as
/// <c>"ip"</c> for <c>"IP"</c> or <c>"claim:sub"</c> for <c>"claims:sub"</c>; RG0019 does the same for a plan source
/// (<c>"claims:plan"</c> to <c>"claim:plan"</c>). A value held in a constant is left alone: the constant may serve other
/// code, and is better fixed where it is declared.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(KeyCodeFixProvider)), Shared]
public sealed class KeyCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["RG0003", "RG0019"];

    /// <summary>Each fix replaces one literal with its own suggestion, so fixes across a document or solution merge cleanly.</summary>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not LiteralExpressionSyntax literal
                || !literal.IsKind(SyntaxKind.StringLiteralExpression)
                || !diagnostic.Properties.TryGetValue(TokenBucketAnalyzer.SuggestedKeyProperty, out var key) || key is null)
            {
                continue;
            }
            context.RegisterCodeFix(
                CodeAction.Create(
                    diagnostic.Id == "RG0019" ? $"Use plan source \"{key}\"" : $"Use key \"{key}\"",
                    ct => LiteralReplacement.WithStringAsync(context.Document, literal, key, ct),
                    equivalenceKey: diagnostic.Id),
                diagnostic);
        }
    }
}
