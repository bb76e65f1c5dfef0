using System.Text.RegularExpressions;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Process;

/// <summary>
/// The analyzer as a user receives it: a throwaway web project outside the repository that references the runtime and
/// the generator, built with <c>dotnet build</c>.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
[Collection(TimingCollection.Name)]
public sealed partial class AnalyzerBuildTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("rateguard-throwaway-").FullName;

    [Fact]
    public void A_build_with_three_mistakes_fails_with_exactly_those_ids_at_those_lines()
    {
        var root = SampleBuild.RepositoryRoot();
        File.WriteAllText(Path.Combine(_directory, "Throwaway.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{Path.Combine(root, "src", "Runtime", "RateGuard.csproj")}" />
                <ProjectReference Include="{Path.Combine(root, "src", "Generator", "RateGuard.Generator.csproj")}" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(_directory, "Program.cs"), """
            using RateGuard;
            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddTokenBuckets();
            var app = builder.Build();
            app.UseTokenBuckets();
            app.MapGet("/a", [TokenBucket(0, 5)] () => "a");
            app.MapGet("/b", [TokenBucket(10, 5, Key = "cookie:session")] () => "b");
            app.MapGet("/c/{tenant}", [TokenBucket(10, 5, Key = "route:id")] (string tenant) => tenant);
            app.MapGet("/ok", [TokenBucket(10, 5)] () => "ok");
            app.Run();
            """);

        var (exitCode, output) = SampleBuild.Run("dotnet", ["build", Path.Combine(_directory, "Throwaway.csproj"), "--artifacts-path", Path.Combine(_directory, "artifacts"), "-nologo"], TimeSpan.FromMinutes(5));

        var errors = ErrorLine().Matches(output).Select(m => (m.Groups["id"].Value, int.Parse(m.Groups["line"].Value))).Distinct().Order().ToList();
        Assert.True(exitCode != 0, "The build should have failed:\n" + output);
        Assert.Equal([("RG0001", 6), ("RG0003", 7), ("RG0004", 8)], errors);
        Assert.DoesNotMatch(@"error (?!RG)\w+\d+:", output);
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

    [GeneratedRegex(@"Program\.cs\((?<line>\d+),\d+\): error (?<id>[A-Z]+\d+):")]
    private static partial Regex ErrorLine();
}
