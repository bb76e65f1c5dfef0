using System.Text.RegularExpressions;

namespace RateGuard.Integration.Tests.Process;

/// <summary>
/// The fenced code blocks of the repository's README.md, so tests run what a reader pastes rather than a copy of it.
/// </summary>
public static partial class Readme
{
    /// <summary>The README as it is in the repository.</summary>
    public static string Text() => File.ReadAllText(Path.Combine(SampleBuild.RepositoryRoot(), "README.md")).ReplaceLineEndings("\n");

    /// <summary>
    /// The code blocks, in order, from the top of the file to the first <c>##</c> heading when <paramref name="heading"/>
    /// is null, or under the <c>## </c><paramref name="heading"/> heading up to the next one.
    /// </summary>
    public static IReadOnlyList<(string Language, string Code)> CodeBlocks(string? heading)
    {
        var text = Text();
        var start = 0;
        if (heading is not null)
        {
            var marker = $"\n## {heading}\n";
            start = text.IndexOf(marker, StringComparison.Ordinal);
            Assert.True(start >= 0, $"README.md has no \"## {heading}\" heading.");
            start += marker.Length;
        }
        var end = text.IndexOf("\n## ", start, StringComparison.Ordinal);
        var section = end < 0 ? text[start..] : text[start..end];
        return [.. CodeBlock().Matches(section).Select(m => (m.Groups["language"].Value, m.Groups["code"].Value))];
    }

    /// <summary>A shell line without its trailing <c>#</c> comment, and the comment's text (empty when there is none).</summary>
    public static (string Command, string Comment) SplitComment(string line)
    {
        var match = TrailingComment().Match(line);
        return match.Success ? (match.Groups["command"].Value, match.Groups["comment"].Value) : (line.TrimEnd(), "");
    }

    [GeneratedRegex(@"^```(?<language>\w*)\n(?<code>.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    // A comment starts at a "#" after whitespace; the commands in the README keep "#" out of their quoted text.
    [GeneratedRegex(@"^(?<command>.*?\S)\s+#\s*(?<comment>.*)$")]
    private static partial Regex TrailingComment();
}
