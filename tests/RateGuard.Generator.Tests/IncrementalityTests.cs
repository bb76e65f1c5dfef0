using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RateGuard.Generator.Tests.Infrastructure;

namespace RateGuard.Generator.Tests;

public sealed class IncrementalityTests
{
    private const string Source = """
        using Microsoft.AspNetCore.Builder;
        using RateGuard;

        public static class Routes
        {
            public static void Map(WebApplication app)
            {
                app.MapGet("/ping", [TokenBucket(10, 5)] () => "pong");
                app.MapGet("/m", () => "m").WithMetadata(new TokenBucketAttribute(2, 1) { Key = "query:id" });
                app.MapGroup("/g").RequireTokenBucket(3, 1, key: "header:X-Api-Key");
            }
        }
        """;

    private static readonly string[] s_trackedSteps =
    [
        TrackingNames.AttributeSpecs,
        TrackingNames.MetadataSpecs,
        TrackingNames.RuntimeAvailable,
        TrackingNames.DistinctSpecs,
    ];

    [Fact]
    public void An_unrelated_edit_leaves_every_step_cached_or_unchanged()
    {
        var compilation = GeneratorHarness.Compile(Source, "public static class Unrelated { public static int Value => 1; }");
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);
        var first = driver.GetRunResult();

        var unrelated = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(unrelated, CSharpSyntaxTree.ParseText(
            "public static class Unrelated { public static int Value => 2; public static int Other => 3; }", GeneratorHarness.ParseOptions, path: unrelated.FilePath));
        var second = driver.RunGenerators(edited).GetRunResult();

        var firstSteps = Steps(first);
        var secondSteps = Steps(second);
        Assert.Equal(s_trackedSteps.Order(), firstSteps.Keys.Intersect(s_trackedSteps).Order());
        foreach (var name in s_trackedSteps)
        {
            foreach (var step in secondSteps[name])
            {
                foreach (var (_, reason) in step.Outputs)
                {
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Step {name} ran with {reason} after an unrelated edit.");
                }
            }
        }
        Assert.All(second.Results[0].TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            output => Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"An output step ran with {output.Reason}."));
    }

    [Fact]
    public void No_step_output_holds_a_compilation_a_symbol_or_syntax()
    {
        var compilation = GeneratorHarness.Compile(Source);
        var result = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation).GetRunResult();

        foreach (var (name, steps) in Steps(result).Where(s => s_trackedSteps.Contains(s.Key)))
        {
            foreach (var step in steps)
            {
                foreach (var (value, _) in step.Outputs)
                {
                    AssertNoRoslynObjects(value, name, []);
                }
            }
        }
    }

    [Fact]
    public void Editing_a_limit_regenerates_the_output()
    {
        var compilation = GeneratorHarness.Compile(Source);
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);

        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(Source.Replace("[TokenBucket(10, 5)]", "[TokenBucket(11, 5)]"), GeneratorHarness.ParseOptions, path: tree.FilePath));
        var result = driver.RunGenerators(edited).GetRunResult();

        var output = Assert.Single(result.Results[0].GeneratedSources).SourceText.ToString();
        Assert.Contains("TokenBucketSpec(11, 5d, \"ip\", 1, null)", output);
        Assert.Contains(Steps(result)[TrackingNames.DistinctSpecs].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
    }

    private static Dictionary<string, IEnumerable<IncrementalGeneratorRunStep>> Steps(GeneratorDriverRunResult result) =>
        result.Results[0].TrackedSteps.ToDictionary(s => s.Key, s => s.Value.AsEnumerable());

    private static void AssertNoRoslynObjects(object? value, string step, HashSet<object> visited)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !visited.Add(value))
        {
            return;
        }
        Assert.False(value is Compilation, $"Step {step} holds a Compilation.");
        Assert.False(value is ISymbol, $"Step {step} holds an ISymbol ({value}).");
        Assert.False(value is SyntaxNode, $"Step {step} holds a SyntaxNode ({value}).");
        Assert.False(value is SemanticModel, $"Step {step} holds a SemanticModel.");

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
}
