using System.Net;
using System.Text.RegularExpressions;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Process;

/// <summary>
/// What a stranger does: follows the README's quick start word for word, from packing the repository to the requests,
/// and gets what the README says they get. The commands are read from README.md, not copied here, so the two cannot
/// drift apart.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
[Collection(TimingCollection.Name)]
public sealed partial class PackageConsumerTests : IDisposable
{
    private static readonly TimeSpan s_buildTimeout = TimeSpan.FromMinutes(10);

    private readonly string _directory = Directory.CreateTempSubdirectory("rateguard-quick-start-").FullName;
    private string? _scratch;
    private string? _version;

    [Fact]
    public async Task The_readme_quick_start_pasted_from_the_repository_root_gives_three_200s_then_a_429_with_retry_after_and_the_analyzer()
    {
        var all = Readme.CodeBlocks("Quick start");
        // An xml block is configuration for the apps that need it (package source mapping), not a step to paste: the
        // steps are the other blocks, exactly these, in this order.
        var blocks = all.Where(b => b.Language != "xml").ToList();
        Assert.Equal(["bash", "csharp", "bash", "bash"], blocks.Select(b => b.Language));
        var (setup, program, run, requests) = (blocks[0].Code, blocks[1].Code, blocks[2].Code.Trim(), blocks[3].Code.Trim());
        // Each xml block maps exactly RateGuard's packages to the source the setup adds, under the name it adds it by.
        var source = SourceName().Match(setup).Groups["name"].Value;
        Assert.NotEmpty(source);
        foreach (var (_, xml) in all.Where(b => b.Language == "xml"))
        {
            var mapping = System.Xml.Linq.XElement.Parse(xml);
            Assert.Equal("packageSourceMapping", mapping.Name.LocalName);
            var feed = Assert.Single(mapping.Elements("packageSource"), e => (string?)e.Attribute("key") == source);
            Assert.Equal(["RateGuard", "RateGuard.*"], feed.Elements("package").Select(p => (string?)p.Attribute("pattern")));
        }
        var (requestCommand, promised) = Readme.SplitComment(requests);
        var expected = promised.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        Assert.Equal(429, expected[^1]);

        var userConfig = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "NuGet", "NuGet.Config");
        var userConfigBefore = File.Exists(userConfig) ? File.ReadAllText(userConfig) : null;

        // The setup block, verbatim, in one shell started in the repository root, stopping at the first failing
        // command. Only the trap is added: it records where the block left the shell, which is the new app.
        var where = Path.Combine(_directory, "where");
        var (exitCode, output) = await Shell.RunAsync($"""
            set -euo pipefail
            trap 'pwd > "{where}"' EXIT
            {setup}
            """, SampleBuild.RepositoryRoot(), s_buildTimeout);
        if (File.Exists(where))
        {
            _scratch = File.ReadAllText(where).Trim();
        }
        Assert.True(exitCode == 0, $"The quick start's setup failed:\n{output}");
        var app = _scratch!;
        var csproj = Path.Combine(app, "MyApi.csproj");
        Assert.True(File.Exists(csproj), $"The setup did not leave the shell in the new app:\n{output}");
        _version = PackageReference().Match(File.ReadAllText(csproj)).Groups["version"].Value;
        Assert.Matches(@"^\d+\.\d+\.\d+-dev\.\d{14}\.g[0-9a-f]+$", _version);
        // The feed is the app's own: the user-wide configuration is as it was.
        Assert.Equal(userConfigBefore, File.Exists(userConfig) ? File.ReadAllText(userConfig) : null);

        File.WriteAllText(Path.Combine(app, "Program.cs"), program);

        // The README names a fixed port so its two commands agree; the test gives both the same free one instead, and
        // changes nothing else.
        var url = LoopbackUrl().Match(run).Value;
        Assert.NotEmpty(url);
        Assert.Contains(url, requestCommand);
        var port = RedisServer.FreePort();
        var freeUrl = $"http://127.0.0.1:{port}";
        await using (var server = Shell.Start(run.Replace(url, freeUrl), app))
        {
            // Waited for without a request, so the burst below meets the app cold, as the README's reader does.
            await server.WaitForPortAsync(port, s_buildTimeout);

            var (requestExit, statuses) = await Shell.RunAsync(requestCommand.Replace(url, freeUrl), app, TimeSpan.FromMinutes(2));
            Assert.True(requestExit == 0, statuses);
            Assert.Equal(string.Join(' ', expected), statuses.Trim());

            // One more, within the 10 s the README promises: still rejected, and told when to come back.
            using var client = new HttpClient { BaseAddress = new Uri(freeUrl) };
            using var rejected = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
            Assert.True(rejected.Headers.RetryAfter?.Delta is { TotalSeconds: > 0 and <= 10 }, $"Retry-After: {rejected.Headers.RetryAfter}");
        }

        // The analyzer came with the package: a capacity of 0 fails the app's build at the attribute's line.
        var line = program.Split('\n').ToList().FindIndex(l => l.Contains("capacity: 3")) + 1;
        File.WriteAllText(Path.Combine(app, "Program.cs"), program.Replace("capacity: 3", "capacity: 0"));
        var (buildExit, buildOutput) = await Shell.RunAsync("dotnet build -nologo", app, s_buildTimeout);
        Assert.NotEqual(0, buildExit);
        Assert.Matches(new Regex($@"Program\.cs\({line},\d+\): error RG0001:"), buildOutput);

        // The core package chooses nothing of the app's OpenAPI stack: neither OpenAPI package nor any of Swashbuckle's
        // is among the app's resolved dependencies, and only RateGuard's own generator runs in its build.
        File.WriteAllText(Path.Combine(app, "Program.cs"), program);
        var (generatedExit, generatedOutput) = await Shell.RunAsync("dotnet build -nologo -p:EmitCompilerGeneratedFiles=true -p:CompilerGeneratedFilesOutputPath=generated", app, s_buildTimeout);
        Assert.True(generatedExit == 0, generatedOutput);
        var resolved = ResolvedPackages(Path.Combine(app, "obj", "project.assets.json"));
        Assert.Contains("RateGuard", resolved);
        Assert.Contains("StackExchange.Redis", resolved);
        Assert.DoesNotContain("Microsoft.AspNetCore.OpenApi", resolved);
        Assert.DoesNotContain("Microsoft.OpenApi", resolved);
        Assert.DoesNotContain(resolved, p => p.StartsWith("Swashbuckle.", StringComparison.Ordinal));
        var generators = Directory.EnumerateDirectories(Path.Combine(app, "generated")).SelectMany(Directory.EnumerateDirectories).Select(Path.GetFileName).ToList();
        Assert.Contains("RateGuard.Generator.TokenBucketGenerator", generators);
        Assert.DoesNotContain(generators, g => g!.Contains("OpenApi", StringComparison.Ordinal));
    }

    // The names of every package the app resolved, direct or transitive, from the restore's assets file.
    private static HashSet<string> ResolvedPackages(string assetsFile)
    {
        using var assets = System.Text.Json.JsonDocument.Parse(File.ReadAllText(assetsFile));
        return [.. assets.RootElement.GetProperty("libraries").EnumerateObject()
            .Where(l => l.Value.GetProperty("type").GetString() == "package")
            .Select(l => l.Name[..l.Name.IndexOf('/', StringComparison.Ordinal)])];
    }

    [GeneratedRegex(@"<PackageReference Include=""RateGuard"" Version=""(?<version>[^""]+)""")]
    private static partial Regex PackageReference();

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex LoopbackUrl();

    [GeneratedRegex(@"dotnet nuget add source .* -n (?<name>\S+)")]
    private static partial Regex SourceName();

    public void Dispose()
    {
        // The quick start's scratch directory (the parent of MyApi, made by mktemp), and the packages it put in the
        // global cache under a version no other build will ask for.
        if (_scratch is not null)
        {
            var scratch = Path.GetFileName(_scratch) == "MyApi" ? Path.GetDirectoryName(_scratch)! : _scratch;
            if (Path.GetFileName(scratch).StartsWith("tmp.", StringComparison.Ordinal))
            {
                Delete(scratch);
            }
        }
        if (_version is { Length: > 0 })
        {
            var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
                ? configured
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            Delete(Path.Combine(cache, "rateguard", _version));
            Delete(Path.Combine(cache, "rateguard.attributes", _version));
        }
        Delete(_directory);
    }

    private static void Delete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
