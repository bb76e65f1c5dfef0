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

namespace RateGuard.CodeFixes;

/// <summary>
/// RG0013: moves the <c>UseTokenBuckets()</c> statement to just after the last of the <c>UseRouting()</c> and
/// <c>UseAuthentication()</c> calls it ran ahead of, and past a <c>UseAuthorization()</c> that directly follows
/// authentication, which is where the wiring fix puts it too. The statement keeps its comments; blank lines stay where
/// they were.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MiddlewareOrderCodeFixProvider)), Shared]
public sealed class MiddlewareOrderCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["RG0013"];

    /// <summary>Each fix moves one statement within its own body, so fixes across a document or solution merge cleanly.</summary>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        foreach (var diagnostic in context.Diagnostics)
        {
            if (root is null || Plan(root, diagnostic) is not { } plan)
            {
                continue;
            }
            context.RegisterCodeFix(
                CodeAction.Create($"Move UseTokenBuckets() after {plan.AnchorName}()", ct => MoveAsync(context.Document, plan, ct), equivalenceKey: "RG0013"),
                diagnostic);
        }
    }

    // The statement to move and the one to put it after. Both must be plain statements of the same block (or of the
    // top-level code): a call inside an if, or chained onto another, has no single right place to go.
    private static MovePlan? Plan(SyntaxNode root, Diagnostic diagnostic)
    {
        if (Statement(root, diagnostic.Location) is not { } use || diagnostic.AdditionalLocations.Count == 0)
        {
            return null;
        }
        var siblings = use.Statement.Parent!.ChildNodes().ToList();
        var index = siblings.IndexOf(use.Statement);
        var anchorIndex = -1;
        foreach (var location in diagnostic.AdditionalLocations)
        {
            if (Statement(root, location) is not { } call || call.Statement.Parent != use.Statement.Parent || call.Receiver != use.Receiver)
            {
                return null;
            }
            anchorIndex = System.Math.Max(anchorIndex, siblings.IndexOf(call.Statement));
        }
        if (anchorIndex <= index)
        {
            return null;
        }
        var anchorName = Call(siblings[anchorIndex])!.Value.Name;
        if (anchorName == "UseAuthentication" && anchorIndex + 1 < siblings.Count
            && Call(siblings[anchorIndex + 1]) is { Name: "UseAuthorization" } authorization && authorization.Receiver == use.Receiver)
        {
            anchorIndex++;
            anchorName = authorization.Name;
        }
        return new MovePlan(use.Statement, siblings[index + 1], siblings[anchorIndex], anchorName);
    }

    private static async Task<Document> MoveAsync(Document document, MovePlan plan, CancellationToken cancellationToken)
    {
        var root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        var (blankLines, ownTrivia) = SplitLeadingTrivia(plan.Statement.GetLeadingTrivia());
        var moved = plan.Statement.WithLeadingTrivia(ownTrivia);

        var tracked = root.TrackNodes(plan.Statement, plan.Next, plan.Anchor);
        // The blank lines above the moved statement keep the layout of the place it leaves.
        var next = tracked.GetCurrentNode(plan.Next)!;
        tracked = tracked.ReplaceNode(next, next.WithLeadingTrivia(blankLines.AddRange(next.GetLeadingTrivia())));
        tracked = tracked.RemoveNode(tracked.GetCurrentNode(plan.Statement)!, SyntaxRemoveOptions.KeepNoTrivia)!;
        tracked = tracked.InsertNodesAfter(tracked.GetCurrentNode(plan.Anchor)!, [moved]);
        return document.WithSyntaxRoot(tracked);
    }

    // Leading trivia up to the last line break before the statement's own comments (or its indentation) is blank lines.
    private static (SyntaxTriviaList BlankLines, SyntaxTriviaList Own) SplitLeadingTrivia(SyntaxTriviaList trivia)
    {
        var firstContent = 0;
        while (firstContent < trivia.Count && trivia[firstContent].Kind() is SyntaxKind.WhitespaceTrivia or SyntaxKind.EndOfLineTrivia)
        {
            firstContent++;
        }
        var split = 0;
        for (var i = 0; i < firstContent; i++)
        {
            if (trivia[i].IsKind(SyntaxKind.EndOfLineTrivia))
            {
                split = i + 1;
            }
        }
        return (SyntaxFactory.TriviaList(trivia.Take(split)), SyntaxFactory.TriviaList(trivia.Skip(split)));
    }

    // The statement a call at this location is, with the call's receiver text; top-level statements as their global
    // statement, so that siblings are compared at one level.
    private static (SyntaxNode Statement, string Receiver)? Statement(SyntaxNode root, Location location)
    {
        if (root.FindNode(location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax { Parent: ExpressionStatementSyntax statement })
        {
            return null;
        }
        SyntaxNode host = statement.Parent is GlobalStatementSyntax global ? global : statement;
        return host.Parent is BlockSyntax or CompilationUnitSyntax && Call(host) is { } call ? (host, call.Receiver) : null;
    }

    private static (string Name, string Receiver)? Call(SyntaxNode statement)
    {
        var expression = (statement is GlobalStatementSyntax global ? global.Statement : statement) is ExpressionStatementSyntax { Expression: var e } ? e : null;
        return expression is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax access }
            ? (access.Name.Identifier.ValueText, access.Expression.ToString())
            : null;
    }

    private sealed record MovePlan(SyntaxNode Statement, SyntaxNode Next, SyntaxNode Anchor, string AnchorName);
}
