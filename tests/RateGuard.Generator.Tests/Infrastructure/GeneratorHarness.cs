using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace RateGuard.Generator.Tests.Infrastructure;

/// <summary>
/// Compiles test sources against the running app's own framework, ASP.NET Core and RateGuard assemblies, and runs the
/// generator over them, checking on every run that it caches.
/// </summary>
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

    /// <summary>
    /// Every step the generator names, read from <see cref="TrackingNames"/> so that a step added there is checked
    /// without being listed again here.
    /// </summary>
    public static IReadOnlyList<string> TrackedSteps { get; } =
        [.. typeof(TrackingNames).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!)];

    public static GeneratorDriver CreateDriver(IIncrementalGenerator generator) =>
        CSharpGeneratorDriver.Create(
            [generator.AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>
    /// Runs the generator as the compiler does, and proves on every call that it caches: a second run on a clone of
    /// the compilation must find every tracked step <see cref="IncrementalStepRunReason.Cached"/> or
    /// <see cref="IncrementalStepRunReason.Unchanged"/> and emit the same sources, and no tracked step may hold a
    /// Roslyn object, which would keep an old compilation alive in the IDE. Returns the driver after the first run, so
    /// that a test can go on to run it on an edited compilation.
    /// </summary>
    public static GeneratorDriver Run(Compilation compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics) =>
        RunTwice(new TokenBucketGenerator(), TrackedSteps, compilation, out output, out diagnostics);

    /// <summary><see cref="Run"/> for any generator and the steps it names: the checks themselves are tested with it.</summary>
    public static GeneratorDriver RunTwice(IIncrementalGenerator generator, IReadOnlyCollection<string> trackedSteps, Compilation compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics)
    {
        var driver = CreateDriver(generator).RunGeneratorsAndUpdateCompilation(compilation, out output, out diagnostics);
        var first = driver.GetRunResult();
        var second = driver.RunGenerators(compilation.Clone()).GetRunResult();

        // A step with no input, such as one over syntax the source lacks, does not appear at all. TokenBucketGenerator's
        // steps over the compilation and over the collected specs always run, so no case leaves nothing to check.
        var ran = StepsThatRan(first, trackedSteps);
        Assert.NotEmpty(ran);
        Assert.Equal(ran, StepsThatRan(second, trackedSteps));
        AssertNoRoslynObjects(first, trackedSteps);
        AssertNoRoslynObjects(second, trackedSteps);
        AssertCachedOrUnchanged(second, trackedSteps, "on a clone of the compilation");
        Assert.Equal(Sources(first), Sources(second));
        return driver;
    }

    /// <summary>Checks that every tracked step, and every output step, was <see cref="IncrementalStepRunReason.Cached"/> or <see cref="IncrementalStepRunReason.Unchanged"/>.</summary>
    public static void AssertCachedOrUnchanged(GeneratorDriverRunResult result, IReadOnlyCollection<string> trackedSteps, string when)
    {
        var steps = Steps(result);
        foreach (var name in StepsThatRan(result, trackedSteps))
        {
            foreach (var (_, reason) in steps[name].SelectMany(s => s.Outputs))
            {
                Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Step {name} ran with {reason} {when}.");
            }
        }
        foreach (var (_, reason) in result.Results.SelectMany(r => r.TrackedOutputSteps).SelectMany(s => s.Value).SelectMany(s => s.Outputs))
        {
            Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"An output step ran with {reason} {when}.");
        }
    }

    /// <summary>Walks every value the tracked steps produced, through every field, and fails on any Roslyn object in it.</summary>
    public static void AssertNoRoslynObjects(GeneratorDriverRunResult result, IReadOnlyCollection<string> trackedSteps)
    {
        foreach (var (name, steps) in Steps(result).Where(s => trackedSteps.Contains(s.Key)))
        {
            foreach (var (value, _) in steps.SelectMany(s => s.Outputs))
            {
                AssertNoRoslynObjects(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
            }
        }
    }

    /// <summary>Runs the generator and returns its single output file, after checking that everything compiles cleanly.</summary>
    public static string RunAndGetSource(params string[] sources)
    {
        var compilation = Compile(sources);
        AssertNoDiagnostics(compilation.GetDiagnostics(), "the test source");

        var driver = Run(compilation, out var output, out var generatorDiagnostics);
        AssertNoDiagnostics(generatorDiagnostics, "the generator");
        // Generated code must build without a single warning under strict settings.
        AssertNoDiagnostics(output.GetDiagnostics(), "the generated code");

        var result = Assert.Single(driver.GetRunResult().Results);
        var generated = Assert.Single(result.GeneratedSources);
        return generated.SourceText.ToString();
    }

    /// <summary>The named steps of the generator's run, by name.</summary>
    public static Dictionary<string, ImmutableArray<IncrementalGeneratorRunStep>> Steps(GeneratorDriverRunResult result) =>
        result.Results.SelectMany(r => r.TrackedSteps).ToDictionary(s => s.Key, s => s.Value);

    /// <summary>Which of <paramref name="trackedSteps"/> ran at least once, in order.</summary>
    public static List<string> StepsThatRan(GeneratorDriverRunResult result, IReadOnlyCollection<string> trackedSteps) =>
        [.. Steps(result).Keys.Where(trackedSteps.Contains).Order(StringComparer.Ordinal)];

    private static List<(string HintName, string Text)> Sources(GeneratorDriverRunResult result) =>
        [.. result.Results.SelectMany(r => r.GeneratedSources).Select(s => (s.HintName, s.SourceText.ToString()))];

    // The Roslyn objects a step must not hold. Each roots the compilation or syntax tree it came from, so a cached step
    // holding one keeps an old compilation alive in the IDE. Most also never compare equal across compilations, which
    // the rerun on a clone catches; a Location compares equal while its tree is unchanged, and only this walk finds it.
    private static void AssertNoRoslynObjects(object? value, string step, HashSet<object> visited)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !visited.Add(value))
        {
            return;
        }
        Assert.False(value is Compilation, $"Step {step} holds a Compilation.");
        Assert.False(value is ISymbol, $"Step {step} holds an ISymbol ({value}).");
        Assert.False(value is SyntaxNode, $"Step {step} holds a SyntaxNode ({value}).");
        Assert.False(value is SyntaxToken, $"Step {step} holds a SyntaxToken ({value}).");
        Assert.False(value is SyntaxTree, $"Step {step} holds a SyntaxTree ({value}).");
        Assert.False(value is SyntaxReference, $"Step {step} holds a SyntaxReference.");
        Assert.False(value is SemanticModel, $"Step {step} holds a SemanticModel.");
        Assert.False(value is Location, $"Step {step} holds a Location ({value}).");
        Assert.False(value is IOperation, $"Step {step} holds an IOperation ({value}).");
        Assert.False(value is AttributeData, $"Step {step} holds an AttributeData ({value}).");

        if (value is IEnumerable items)
        {
            foreach (var item in items)
            {
                AssertNoRoslynObjects(item, step, visited);
            }
        }
        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertNoRoslynObjects(field.GetValue(value), step, visited);
        }
    }

    private static void AssertNoDiagnostics(IEnumerable<Diagnostic> diagnostics, string what)
    {
        var reported = diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(reported.Count == 0, $"Diagnostics in {what}:\n{string.Join("\n", reported)}");
    }
}
