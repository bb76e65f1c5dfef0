using System.Text.RegularExpressions;
using RateGuard.Integration.Tests.Infrastructure;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Process;

/// <summary>
/// What a stranger does: packs nothing, but takes the packages from a feed, adds one PackageReference to a fresh
/// <c>dotnet new web</c> app, puts <c>[TokenBucket(capacity: 3, rate: 1)]</c> on an endpoint, and runs it.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed partial class PackageConsumerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("rateguard-consumer-").FullName;

    [Fact]
    public async Task A_fresh_web_app_with_one_package_reference_gets_three_200s_then_429_and_the_analyzer()
    {
        var root = SampleBuild.RepositoryRoot();
        var feed = Path.Combine(_directory, "feed");
        // A version of its own, so no package cached by an earlier run can stand in for this build.
        var version = $"0.1.0-ci.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        foreach (var project in new[] { "src/Runtime/RateGuard.csproj", "src/Attributes/RateGuard.Attributes.csproj" })
        {
            Run("dotnet", ["pack", Path.Combine(root, project), "-c", "Release", "-o", feed, "--artifacts-path", Path.Combine(_directory, "pack"), $"-p:Version={version}", "-nologo"], "pack");
        }

        var app = Path.Combine(_directory, "app");
        Run("dotnet", ["new", "web", "-o", app, "-n", "Consumer", "--no-restore"], "dotnet new web");
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        var csproj = Path.Combine(app, "Consumer.csproj");
        File.WriteAllText(csproj, File.ReadAllText(csproj).Replace("</Project>", $"""
              <ItemGroup>
                <PackageReference Include="RateGuard" Version="{version}" />
              </ItemGroup>
            </Project>
            """));
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using RateGuard;

            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddTokenBuckets();
            var app = builder.Build();
            app.UseTokenBuckets();
            app.MapGet("/", [TokenBucket(capacity: 3, rate: 1)] () => "Hello World!");
            app.Run();
            """);

        Run("dotnet", ["build", app, "-c", "Release", "-warnaserror", "-nologo"], "build");
        await using (var running = await SampleProcess.StartAppAsync(Path.Combine(app, "bin", "Release", "net10.0", "Consumer.dll"), "/"))
        {
            // The readiness probe took the first token.
            Assert.Equal(Repeat(200, 2).Then(429), await running.Client.Statuses("/", 3));
        }

        File.WriteAllText(Path.Combine(app, "Program.cs"), File.ReadAllText(Path.Combine(app, "Program.cs")).Replace("capacity: 3", "capacity: 0"));
        var (exitCode, output) = SampleBuild.Run("dotnet", ["build", app, "-c", "Release", "-nologo"], TimeSpan.FromMinutes(5));
        Assert.NotEqual(0, exitCode);
        Assert.Matches(new Regex(@"Program\.cs\(7,\d+\): error RG0001:"), output);
    }

    private static void Run(string file, string[] arguments, string what)
    {
        var (exitCode, output) = SampleBuild.Run(file, arguments, TimeSpan.FromMinutes(5));
        Assert.True(exitCode == 0, $"{what} failed:\n{output}");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
