using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace RateGuard.Generator.Tests.Infrastructure;

/// <summary>Compiles test sources against the running app's own framework, ASP.NET Core and RateGuard assemblies.</summary>
public static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(() =>
    {
        // The trusted platform assemblies are exactly what this test process runs on: the .NET and ASP.NET Core
        // frameworks plus this project's references, RateGuard and RateGuard.Attributes among them.
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return [.. paths.Where(p => p.EndsWith(".dll", StringComparison.Ordinal)).Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    });

    public static readonly CSharpParseOptions ParseOptions = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Preview);

    public static IReadOnlyList<MetadataReference> References => s_references.Value;

    public static CSharpCompilation Compile(params string[] sources) => Compile(s_references.Value, sources);

    public static CSharpCompilation CompileWithoutRuntime(params string[] sources) =>
        Compile([.. s_references.Value.Where(r => !(r.Display ?? "").EndsWith("RateGuard.dll", StringComparison.Ordinal))], sources);

    private static CSharpCompilation Compile(IEnumerable<MetadataReference> references, string[] sources) =>
        CSharpCompilation.Create(
            "TestApp",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, warningLevel: 9999));

    public static GeneratorDriver CreateDriver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [new TokenBucketGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator and returns its single output file, after checking that everything compiles cleanly.</summary>
    public static string RunAndGetSource(params string[] sources)
    {
        var compilation = Compile(sources);
        AssertNoDiagnostics(compilation.GetDiagnostics(), "the test source");

        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        AssertNoDiagnostics(generatorDiagnostics, "the generator");
        // Generated code must build without a single warning under strict settings.
        AssertNoDiagnostics(output.GetDiagnostics(), "the generated code");

        var result = Assert.Single(driver.GetRunResult().Results);
        var generated = Assert.Single(result.GeneratedSources);
        return generated.SourceText.ToString();
    }

    private static void AssertNoDiagnostics(IEnumerable<Diagnostic> diagnostics, string what)
    {
        var reported = diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(reported.Count == 0, $"Diagnostics in {what}:\n{string.Join("\n", reported)}");
    }
}
