using System.Text.RegularExpressions;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Process;

/// <summary>
/// The two commands at the top of the README, read from README.md: the first runs the sample, the second is what CI
/// runs.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
[Collection(TimingCollection.Name)]
public sealed partial class ReadmeCommandTests
{
    [Fact]
    public async Task The_first_command_pasted_in_the_repository_root_serves_the_sample_ping()
    {
        var line = TopCommands()[0];
        // The README names port 5000; the test gives the command a free port instead and changes nothing else.
        var url = LoopbackUrl().Match(line).Value;
        Assert.NotEmpty(url);
        var port = RedisServer.FreePort();
        var freeUrl = $"http://127.0.0.1:{port}";

        await using var sample = Shell.Start(line.Replace(url, freeUrl), SampleBuild.RepositoryRoot());
        await sample.WaitForPortAsync(port, TimeSpan.FromMinutes(10));

        using var client = new HttpClient { BaseAddress = new Uri(freeUrl) };
        using var response = await client.GetAsync("/ping");
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("pong", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Ci_runs_exactly_the_second_command_from_the_repository_root()
    {
        // Compared as text, not run: the second command is ./test.sh, which runs every test, this one included.
        var (command, _) = Readme.SplitComment(TopCommands()[1]);
        var ci = File.ReadAllLines(Path.Combine(SampleBuild.RepositoryRoot(), ".ci", "run"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToArray();

        Assert.Equal(["set -euo pipefail", """cd "$(dirname "$0")/.." """.TrimEnd(), command], ci);
    }

    /// <summary>The lines of the README's first code block, above its first heading.</summary>
    private static string[] TopCommands()
    {
        var blocks = Readme.CodeBlocks(heading: null);
        Assert.NotEmpty(blocks);
        Assert.Equal("bash", blocks[0].Language);
        var lines = blocks[0].Code.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        return lines;
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex LoopbackUrl();
}
