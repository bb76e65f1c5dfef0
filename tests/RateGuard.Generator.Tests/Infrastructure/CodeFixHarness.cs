using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using RateGuard.Generator.Analysis;

namespace RateGuard.Generator.Tests.Infrastructure;

/// <summary>Runs the analyzer in a workspace, applies a code fix, and returns the fixed sources.</summary>
public static class CodeFixHarness
{
    public static async Task<IReadOnlyList<string>> TitlesAsync(CodeFixProvider provider, string diagnosticId, OutputKind kind, params string[] sources)
    {
        var (document, diagnostic) = await FindAsync(diagnosticId, kind, sources);
        return (await ActionsAsync(provider, document, diagnostic)).Select(a => a.Title).ToList();
    }

    /// <summary>Applies the fix titled <paramref name="title"/> and returns every document's text afterwards.</summary>
    public static async Task<string[]> ApplyAsync(CodeFixProvider provider, string diagnosticId, string title, OutputKind kind, params string[] sources)
    {
        var (document, diagnostic) = await FindAsync(diagnosticId, kind, sources);
        var action = Assert.Single(await ActionsAsync(provider, document, diagnostic), a => a.Title == title);
        var operation = Assert.Single((await action.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>());
        var solution = operation.ChangedSolution;
        var project = solution.GetProject(document.Project.Id)!;

        // The fixed project must be free of the diagnostic and compile.
        var compilation = (await project.GetCompilationAsync())!;
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        var remaining = await compilation.WithAnalyzers([new TokenBucketAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        Assert.DoesNotContain(remaining, d => d.Id == diagnosticId);

        return await Task.WhenAll(project.Documents.OrderBy(d => d.Name).Select(async d => (await d.GetTextAsync()).ToString()));
    }

    private static async Task<List<CodeAction>> ActionsAsync(CodeFixProvider provider, Document document, Diagnostic diagnostic)
    {
        var actions = new List<CodeAction>();
        await provider.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        return actions;
    }

    private static async Task<(Document, Diagnostic)> FindAsync(string diagnosticId, OutputKind kind, string[] sources)
    {
        var workspace = new AdhocWorkspace();
        var project = workspace.CurrentSolution
            .AddProject("App", "App", LanguageNames.CSharp)
            .WithCompilationOptions(new CSharpCompilationOptions(kind, nullableContextOptions: NullableContextOptions.Enable))
            .WithParseOptions(GeneratorHarness.ParseOptions)
            .WithMetadataReferences(GeneratorHarness.References);
        for (var i = 0; i < sources.Length; i++)
        {
            project = project.AddDocument($"Source{i}.cs", sources[i]).Project;
        }
        var compilation = (await project.GetCompilationAsync())!;
        var diagnostics = await compilation.WithAnalyzers([new TokenBucketAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        var diagnostic = Assert.Single(diagnostics, d => d.Id == diagnosticId);
        return (project.GetDocument(diagnostic.Location.SourceTree!)!, diagnostic);
    }
}
