using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RateGuard.CodeFixes;

/// <summary>The edit most fixes make: one attribute or call argument replaced by a literal, its trivia kept.</summary>
internal static class LiteralReplacement
{
    public static Task<Document> WithStringAsync(Document document, ExpressionSyntax argument, string value, CancellationToken cancellationToken) =>
        ReplaceAsync(document, argument, SyntaxFactory.LiteralExpression(SyntaxKind.StringLiteralExpression, SyntaxFactory.Literal(value)), cancellationToken);

    public static Task<Document> WithNumberAsync(Document document, ExpressionSyntax argument, int value, CancellationToken cancellationToken) =>
        ReplaceAsync(document, argument, SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(value)), cancellationToken);

    private static async Task<Document> ReplaceAsync(Document document, ExpressionSyntax argument, LiteralExpressionSyntax literal, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        return document.WithSyntaxRoot(root!.ReplaceNode(argument, literal.WithTriviaFrom(argument)));
    }
}
