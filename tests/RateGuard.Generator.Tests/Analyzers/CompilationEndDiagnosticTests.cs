using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RateGuard.Generator.Analysis;
using RateGuard.Generator.Tests.Infrastructure;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>
/// Which diagnostics appear as a document is analysed on its own, as the IDE does while you type, and which only once
/// the whole compilation has been: the latter, and only they, carry the CompilationEnd tag.
/// </summary>
public sealed class CompilationEndDiagnosticTests
{
    private const string Source = AnalyzerHarness.Usings + """
        public static class Program
        {
            public static void Main(string[] args)
            {
                var builder = WebApplication.CreateBuilder(args);
                var app = builder.Build();
                app.UseTokenBuckets();
                app.UseRouting();
                app.MapGet("/a/{id}", [TokenBucket(5, 1, Key = "route:x", Bucket = "shared")] () => "a");
                app.MapGet("/b", [TokenBucket(6, 1, Key = "user", Bucket = "shared")] () => "b");
                app.MapGet("/c", [TokenBucket(5, 1, Key = "cookie:x")] () => "c");
                app.Run();
            }

            [TokenBucket(5, 1)]
            private static string Helper() => "h";
        }

        [TokenBucket(5, 1)]
        public sealed class PriceList
        {
        }
        """;

    [Fact]
    public async Task Diagnostics_found_in_one_document_are_live_and_untagged_and_the_rest_are_tagged_CompilationEnd()
    {
        var compilation = AnalyzerHarness.Compile(OutputKind.ConsoleApplication, Source);
        var analysis = compilation.WithAnalyzers([new TokenBucketAnalyzer()]);
        var all = await analysis.GetAnalyzerDiagnosticsAsync();
        var live = new List<Diagnostic>();
        foreach (var tree in compilation.SyntaxTrees)
        {
            live.AddRange(await analysis.GetAnalyzerSemanticDiagnosticsAsync(compilation.GetSemanticModel(tree), filterSpan: null, CancellationToken.None));
        }
        var liveKeys = live.Select(Key).ToHashSet();
        var buildOnly = all.Where(d => !liveKeys.Contains(Key(d))).ToList();

        Assert.Equal(["RG0003", "RG0004", "RG0007", "RG0009"], live.Select(d => d.Id).Order());
        Assert.Equal(["RG0008", "RG0009", "RG0010", "RG0013"], buildOnly.Select(d => d.Id).Order());
        Assert.Equal(all.Length, live.Count + buildOnly.Count);
        Assert.All(live, d => Assert.DoesNotContain(WellKnownDiagnosticTags.CompilationEnd, d.Descriptor.CustomTags));
        Assert.All(buildOnly, d => Assert.Contains(WellKnownDiagnosticTags.CompilationEnd, d.Descriptor.CustomTags));
    }

    [Fact]
    public void RG0009_has_one_descriptor_for_classes_and_one_for_methods_that_differ_only_in_the_CompilationEnd_tag()
    {
        var descriptors = new TokenBucketAnalyzer().SupportedDiagnostics.Where(d => d.Id == "RG0009").ToList();

        Assert.Equal(2, descriptors.Count);
        Assert.Single(descriptors, d => d.CustomTags.Contains(WellKnownDiagnosticTags.CompilationEnd));
        Assert.Single(descriptors.Select(d => (d.Title.ToString(), d.MessageFormat.ToString(), d.Category, d.DefaultSeverity, d.HelpLinkUri)).Distinct());
    }

    [Fact]
    public async Task One_RG0009_suppression_or_severity_setting_covers_both_the_class_and_the_method_case()
    {
        var compilation = AnalyzerHarness.Compile(OutputKind.ConsoleApplication, Source);
        var reported = await compilation.WithAnalyzers([new TokenBucketAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        var pragma = AnalyzerHarness.Compile(OutputKind.ConsoleApplication, "#pragma warning disable RG0009\n" + Source);
        var severity = compilation.WithOptions(compilation.Options.WithSpecificDiagnosticOptions([new("RG0009", ReportDiagnostic.Suppress)]));

        Assert.Equal(2, reported.Count(d => d.Id == "RG0009"));
        Assert.DoesNotContain(await pragma.WithAnalyzers([new TokenBucketAnalyzer()]).GetAnalyzerDiagnosticsAsync(), d => d.Id == "RG0009");
        Assert.DoesNotContain(await severity.WithAnalyzers([new TokenBucketAnalyzer()]).GetAnalyzerDiagnosticsAsync(), d => d.Id == "RG0009");
    }

    private static (string Id, string? Path, int Start) Key(Diagnostic diagnostic) =>
        (diagnostic.Id, diagnostic.Location.SourceTree?.FilePath, diagnostic.Location.SourceSpan.Start);
}
