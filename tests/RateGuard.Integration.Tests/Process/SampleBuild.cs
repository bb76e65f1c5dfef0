using System.Diagnostics;

namespace RateGuard.Integration.Tests.Process;

/// <summary>
/// Builds the minimal-API sample once, with the Request Delegate Generator switched on as <c>PublishAot</c> would,
/// into a directory of its own, for tests that run it as a real process.
/// </summary>
public sealed class SampleBuild : IDisposable
{
    public SampleBuild()
    {
        ArtifactsPath = Directory.CreateTempSubdirectory("rateguard-rdg-").FullName;
        Assembly = Build("MinimalApi", ArtifactsPath, "-p:EnableRequestDelegateGenerator=true", "-p:EmitCompilerGeneratedFiles=true");
        GeneratedFiles = Directory.EnumerateFiles(ArtifactsPath, "*.cs", SearchOption.AllDirectories).Where(p => p.Contains("generated")).ToArray();
    }

    public string ArtifactsPath { get; }

    public string Assembly { get; }

    public string[] GeneratedFiles { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(ArtifactsPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Builds <c>samples/&lt;sample&gt;</c> in Release, with warnings as errors and <paramref name="properties"/>, into
    /// <paramref name="artifactsPath"/>, and returns the path of its assembly.
    /// </summary>
    public static string Build(string sample, string artifactsPath, params string[] properties)
    {
        var project = Path.Combine(RepositoryRoot(), "samples", sample, sample + ".csproj");
        var (exitCode, output) = Run("dotnet", ["build", project, "-c", "Release", "--artifacts-path", artifactsPath, .. properties, "-warnaserror", "-nologo"], TimeSpan.FromMinutes(5));
        Assert.True(exitCode == 0, $"Building samples/{sample} ({string.Join(' ', properties)}) failed:\n{output}");
        return Directory.EnumerateFiles(artifactsPath, sample + ".dll", SearchOption.AllDirectories).Single(p => p.Contains(Path.Combine("bin", sample)));
    }

    public static (int ExitCode, string Output) Run(string file, string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>
    /// The repository root: the nearest directory above the test's output directory that holds Generator.sln.
    /// Compile-time source paths are no guide here, because CI builds map them to /_/.
    /// </summary>
    public static string RepositoryRoot()
    {
        for (var directory = AppContext.BaseDirectory; directory is not null; directory = Path.GetDirectoryName(directory.TrimEnd(Path.DirectorySeparatorChar)))
        {
            if (File.Exists(Path.Combine(directory, "Generator.sln")))
            {
                return directory;
            }
        }
        throw new InvalidOperationException($"No Generator.sln above {AppContext.BaseDirectory}.");
    }
}
