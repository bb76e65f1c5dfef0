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

    /// <summary>
    /// Runs the provider's Fix All for <paramref name="equivalenceKey"/> over every <paramref name="diagnosticId"/> in
    /// <paramref name="scope"/>, triggered from the first document that has one, and returns every document's text
    /// afterwards, project by project. Each inner array is one project's sources.
    /// </summary>
    public static async Task<string[]> FixAllAsync(CodeFixProvider provider, string diagnosticId, string equivalenceKey, FixAllScope scope, OutputKind kind, params string[][] projects)
    {
        var solution = CreateSolution(kind, projects);
        var diagnostics = new AnalyzerDiagnostics(diagnosticId);
        Document? trigger = null;
        foreach (var document in solution.Projects.OrderBy(p => p.Name).SelectMany(p => p.Documents.OrderBy(d => d.Name)))
        {
            if ((await diagnostics.GetDocumentDiagnosticsAsync(document, CancellationToken.None)).Any())
            {
                trigger = document;
                break;
            }
        }
        Assert.NotNull(trigger);

        var fixAllProvider = provider.GetFixAllProvider();
        Assert.NotNull(fixAllProvider);
        Assert.Contains(scope, fixAllProvider.GetSupportedFixAllScopes());
        var context = new FixAllContext(trigger, provider, scope, equivalenceKey, [diagnosticId], diagnostics, CancellationToken.None);
        var action = await fixAllProvider.GetFixAsync(context);
        Assert.NotNull(action);
        var operation = Assert.Single((await action.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>());

        var texts = new List<string>();
        foreach (var project in operation.ChangedSolution.Projects.OrderBy(p => p.Name))
        {
            var compilation = (await project.GetCompilationAsync())!;
            Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
            foreach (var document in project.Documents.OrderBy(d => d.Name))
            {
                texts.Add((await document.GetTextAsync()).ToString());
            }
        }
        return [.. texts];
    }

    /// <summary>How many <paramref name="diagnosticId"/> diagnostics the sources have, to show a Fix All test covers several.</summary>
    public static async Task<int> CountAsync(string diagnosticId, OutputKind kind, params string[][] projects)
    {
        var diagnostics = new AnalyzerDiagnostics(diagnosticId);
        var count = 0;
        foreach (var project in CreateSolution(kind, projects).Projects)
        {
            count += (await diagnostics.GetAllDiagnosticsAsync(project, CancellationToken.None)).Count();
        }
        return count;
    }

    private static async Task<List<CodeAction>> ActionsAsync(CodeFixProvider provider, Document document, Diagnostic diagnostic)
    {
        var actions = new List<CodeAction>();
        await provider.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        return actions;
    }

    private static Solution CreateSolution(OutputKind kind, string[][] projects)
    {
        var solution = new AdhocWorkspace().CurrentSolution;
        for (var p = 0; p < projects.Length; p++)
        {
            var name = p == 0 ? "App" : $"App{p}";
            var project = solution
                .AddProject(name, name, LanguageNames.CSharp)
                .WithCompilationOptions(new CSharpCompilationOptions(kind, nullableContextOptions: NullableContextOptions.Enable))
                .WithParseOptions(GeneratorHarness.ParseOptions)
                .WithMetadataReferences(GeneratorHarness.References);
            for (var i = 0; i < projects[p].Length; i++)
            {
                project = project.AddDocument($"Source{i}.cs", projects[p][i]).Project;
            }
            solution = project.Solution;
        }
        return solution;
    }

    private static async Task<(Document, Diagnostic)> FindAsync(string diagnosticId, OutputKind kind, string[] sources)
    {
        var project = CreateSolution(kind, [sources]).Projects.Single();
        var compilation = (await project.GetCompilationAsync())!;
        var diagnostics = await compilation.WithAnalyzers([new TokenBucketAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        var diagnostic = Assert.Single(diagnostics, d => d.Id == diagnosticId);
        return (project.GetDocument(diagnostic.Location.SourceTree!)!, diagnostic);
    }

    // What a host gives Fix All: the analyzer's diagnostics of one id, by document or by project.
    private sealed class AnalyzerDiagnostics(string diagnosticId) : FixAllContext.DiagnosticProvider
    {
        public override async Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(Document document, CancellationToken cancellationToken)
        {
            var tree = await document.GetSyntaxTreeAsync(cancellationToken);
            return (await AnalyzeAsync(document.Project)).Where(d => d.Location.SourceTree == tree);
        }

        public override async Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            (await AnalyzeAsync(project)).Where(d => !d.Location.IsInSource);

        public override async Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            await AnalyzeAsync(project);

        private async Task<IEnumerable<Diagnostic>> AnalyzeAsync(Project project)
        {
            var compilation = (await project.GetCompilationAsync())!;
            var all = await compilation.WithAnalyzers([new TokenBucketAnalyzer()]).GetAnalyzerDiagnosticsAsync();
            return all.Where(d => d.Id == diagnosticId);
        }
    }
}
