using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using RateGuard.Generator.Analysis;

namespace RateGuard.Generator.Tests.Infrastructure;

/// <summary>
/// Runs the analyzer over sources written with markup: <c>{|RG0004:"route:id"|}</c> says that diagnostic RG0004 must
/// be reported on exactly that span. Every RG diagnostic must be expected, and every expected one reported.
/// </summary>
public static partial class AnalyzerHarness
{
    public const string Usings = """
        using Microsoft.AspNetCore.Authorization;
        using Microsoft.AspNetCore.Builder;
        using Microsoft.AspNetCore.Http;
        using Microsoft.AspNetCore.Mvc;
        using Microsoft.Extensions.DependencyInjection;
        using RateGuard;

        """;

    /// <summary>A <c>Routes.Map(WebApplication app)</c> whose body is <paramref name="body"/>, for limits on minimal APIs.</summary>
    public static string Routes(string body) => $$"""
        public static class Routes
        {
            public static void Map(WebApplication app)
            {
                {{body}}
            }
        }
        """;

    public static Task VerifyLibrary(string markup) => Verify(OutputKind.DynamicallyLinkedLibrary, markup);

    public static Task VerifyApp(string markup) => Verify(OutputKind.ConsoleApplication, markup);

    public static async Task Verify(OutputKind kind, string markup)
    {
        var (source, expected) = Parse(Usings + markup);
        var diagnostics = await AnalyzeAsync(kind, source);

        var actual = diagnostics.Select(d => (d.Id, d.Location.SourceSpan.Start, d.Location.SourceSpan.End, Text: source[d.Location.SourceSpan.Start..d.Location.SourceSpan.End])).OrderBy(d => d.Start).ThenBy(d => d.Id).ToList();
        var wanted = expected.OrderBy(d => d.Start).ThenBy(d => d.Id).ToList();
        Assert.True(wanted.SequenceEqual(actual), $"Expected:\n  {string.Join("\n  ", wanted)}\nActual:\n  {string.Join("\n  ", actual)}\nMessages:\n  {string.Join("\n  ", diagnostics.Select(d => d.ToString()))}");
    }

    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(OutputKind kind, string source)
    {
        var all = await Compile(kind, source).WithAnalyzers([new TokenBucketAnalyzer()]).GetAnalyzerDiagnosticsAsync();
        return [.. all.Where(d => d.Id.StartsWith("RG", StringComparison.Ordinal))];
    }

    /// <summary>Compiles a test source as <paramref name="kind"/>, after checking that it has no errors of its own.</summary>
    public static CSharpCompilation Compile(OutputKind kind, string source)
    {
        var compilation = GeneratorHarness.Compile(source).WithOptions(new CSharpCompilationOptions(kind, nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, "The test source does not compile:\n" + string.Join("\n", errors));
        return compilation;
    }

    private static (string Source, List<(string Id, int Start, int End, string Text)> Expected) Parse(string markup)
    {
        var source = new StringBuilder();
        var expected = new List<(string, int, int, string)>();
        var position = 0;
        foreach (Match match in Markup().Matches(markup))
        {
            source.Append(markup, position, match.Index - position);
            var start = source.Length;
            source.Append(match.Groups["text"].Value);
            expected.Add((match.Groups["id"].Value, start, source.Length, match.Groups["text"].Value));
            position = match.Index + match.Length;
        }
        source.Append(markup, position, markup.Length - position);
        return (source.ToString(), expected);
    }

    [GeneratedRegex(@"\{\|(?<id>RG\d{4}):(?<text>.*?)\|\}", RegexOptions.Singleline)]
    private static partial Regex Markup();
}
