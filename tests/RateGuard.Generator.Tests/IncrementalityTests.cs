using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using RateGuard.Generator.Tests.Infrastructure;
using Xunit.Sdk;

namespace RateGuard.Generator.Tests;

/// <summary>
/// Caching across edits, and the harness's own caching checks. Every generator test already runs through
/// <see cref="GeneratorHarness.Run"/>, which reruns it on a clone of the compilation; these add real edits, and prove
/// that the checks fail on a generator that does not cache.
/// </summary>
public sealed class IncrementalityTests
{
    private const string Source = """
        using Microsoft.AspNetCore.Builder;
        using RateGuard;

        [assembly: TokenBucketLimit("writes", 4, 1)]

        public static class Routes
        {
            public static void Map(WebApplication app)
            {
                app.MapGet("/ping", [TokenBucket(10, 5)] () => "pong");
                app.MapGet("/m", () => "m").WithMetadata(new TokenBucketAttribute(2, 1) { Key = "query:id" });
                app.MapGroup("/g").RequireTokenBucket(3, 1, key: "header:X-Api-Key");
                app.MapPost("/w", [TokenBucket("writes")] () => "w");
            }
        }
        """;

    [Fact]
    public void The_harness_checks_every_step_the_generator_names()
    {
        Assert.Equal(
            [TrackingNames.AttributeSpecs, TrackingNames.DistinctSpecs, TrackingNames.LimitDeclarations, TrackingNames.MetadataSpecs, TrackingNames.RuntimeAvailable],
            GeneratorHarness.TrackedSteps.Order());
    }

    [Fact]
    public void An_unrelated_edit_leaves_every_step_cached_or_unchanged()
    {
        var compilation = GeneratorHarness.Compile(Source, "public static class Unrelated { public static int Value => 1; }");
        var driver = GeneratorHarness.Run(compilation, out _, out _);

        var unrelated = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(unrelated, CSharpSyntaxTree.ParseText(
            "public static class Unrelated { public static int Value => 2; public static int Other => 3; }", GeneratorHarness.ParseOptions, path: unrelated.FilePath));
        var second = driver.RunGenerators(edited).GetRunResult();

        Assert.Equal(GeneratorHarness.TrackedSteps.Order(StringComparer.Ordinal), GeneratorHarness.StepsThatRan(second, GeneratorHarness.TrackedSteps));
        GeneratorHarness.AssertCachedOrUnchanged(second, GeneratorHarness.TrackedSteps, "after an unrelated edit");
        Assert.Equal(
            driver.GetRunResult().Results[0].GeneratedSources.Single().SourceText.ToString(),
            second.Results[0].GeneratedSources.Single().SourceText.ToString());
    }

    [Fact]
    public void Editing_a_limit_regenerates_the_output()
    {
        var compilation = GeneratorHarness.Compile(Source);
        var driver = GeneratorHarness.Run(compilation, out _, out _);

        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(Source.Replace("[TokenBucket(10, 5)]", "[TokenBucket(11, 5)]"), GeneratorHarness.ParseOptions, path: tree.FilePath));
        var result = driver.RunGenerators(edited).GetRunResult();

        var output = Assert.Single(result.Results[0].GeneratedSources).SourceText.ToString();
        Assert.Contains("TokenBucketSpec(11, 5d, \"ip\", 1, null)", output);
        Assert.Contains(GeneratorHarness.Steps(result)[TrackingNames.DistinctSpecs].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        var failure = Assert.ThrowsAny<XunitException>(() => GeneratorHarness.AssertCachedOrUnchanged(result, GeneratorHarness.TrackedSteps, "after the limit changed"));
        Assert.Contains("ran with Modified after the limit changed", failure.Message);
    }

    [Fact]
    public void Editing_a_declared_limit_regenerates_its_registration()
    {
        var compilation = GeneratorHarness.Compile(Source);
        var driver = GeneratorHarness.Run(compilation, out _, out _);

        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(Source.Replace("TokenBucketLimit(\"writes\", 4, 1)", "TokenBucketLimit(\"writes\", 6, 1)"), GeneratorHarness.ParseOptions, path: tree.FilePath));
        var result = driver.RunGenerators(edited).GetRunResult();

        var output = Assert.Single(result.Results[0].GeneratedSources).SourceText.ToString();
        Assert.Contains("\"writes\",\n                new global::RateGuard.CompilerServices.TokenBucketSpec(6, 1d, \"ip\", 1, null));", output);
        Assert.Contains(GeneratorHarness.Steps(result)[TrackingNames.LimitDeclarations].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
    }

    [Fact]
    public void The_harness_fails_a_step_whose_output_holds_a_symbol_inside_a_model()
    {
        var compilation = GeneratorHarness.Compile(Source);
        var result = GeneratorHarness.CreateDriver(new SymbolInModelGenerator()).RunGenerators(compilation).GetRunResult();

        var failure = Assert.ThrowsAny<XunitException>(() => GeneratorHarness.AssertNoRoslynObjects(result, [SymbolInModelGenerator.StepName]));
        Assert.Contains($"Step {SymbolInModelGenerator.StepName} holds an ISymbol (Routes)", failure.Message);
    }

    [Fact]
    public void The_harness_fails_a_step_whose_output_is_rebuilt_unequal_on_a_clone_of_the_compilation()
    {
        var compilation = GeneratorHarness.Compile(Source);

        var failure = Assert.ThrowsAny<XunitException>(() => GeneratorHarness.RunTwice(new UnequalModelGenerator(), [UnequalModelGenerator.StepName], compilation, out _, out _));
        Assert.Contains($"Step {UnequalModelGenerator.StepName} ran with Modified on a clone of the compilation", failure.Message);
    }

    // Keeps each class's symbol inside a record: only walking the record's fields finds it.
    private sealed class SymbolInModelGenerator : IIncrementalGenerator
    {
        public const string StepName = "ClassesWithSymbols";

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var classes = context.SyntaxProvider
                .CreateSyntaxProvider(static (node, _) => node is ClassDeclarationSyntax, static (ctx, ct) => new ClassModel(ctx.SemanticModel.GetDeclaredSymbol(ctx.Node, ct)!))
                .WithTrackingName(StepName);
            context.RegisterSourceOutput(classes, static (_, _) => { });
        }

        private sealed record ClassModel(ISymbol Symbol);
    }

    // Collects each class's name into an array, which compares by reference, so no rerun can find it unchanged.
    private sealed class UnequalModelGenerator : IIncrementalGenerator
    {
        public const string StepName = "ClassNamesInAnArray";

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var classes = context.SyntaxProvider
                .CreateSyntaxProvider(static (node, _) => node is ClassDeclarationSyntax, static (ctx, _) => new[] { ((ClassDeclarationSyntax)ctx.Node).Identifier.ValueText })
                .WithTrackingName(StepName);
            context.RegisterSourceOutput(classes, static (_, _) => { });
        }
    }
}
