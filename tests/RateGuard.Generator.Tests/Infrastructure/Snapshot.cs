namespace RateGuard.Generator.Tests.Infrastructure;

/// <summary>
/// Golden-file snapshots: the expected output lives in <c>Snapshots/&lt;name&gt;.verified.cs</c>. On a mismatch the
/// actual output is written next to it as <c>.received.cs</c>; set <c>RATEGUARD_ACCEPT_SNAPSHOTS=1</c> to accept it.
/// </summary>
public static class Snapshot
{
    public static void Match(string actual, string name)
    {
        var directory = Path.Combine(s_projectDirectory.Value, "Snapshots");
        var verified = Path.Combine(directory, name + ".verified.cs");
        var received = Path.Combine(directory, name + ".received.cs");
        actual = Normalize(actual);

        if (Environment.GetEnvironmentVariable("RATEGUARD_ACCEPT_SNAPSHOTS") == "1")
        {
            File.WriteAllText(verified, actual);
            File.Delete(received);
            return;
        }

        var expected = File.Exists(verified) ? Normalize(File.ReadAllText(verified)) : null;
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }
        File.WriteAllText(received, actual);
        Assert.Fail(expected is null
            ? $"No snapshot {verified} exists yet. The output is in {received}; review it and rename it to accept."
            : $"The generated source differs from {verified}. The output is in {received}; diff them, then accept with RATEGUARD_ACCEPT_SNAPSHOTS=1.\n{FirstDifference(expected, actual)}");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimStart('\uFEFF');

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var left = i < e.Length ? e[i] : "<end>";
            var right = i < a.Length ? a[i] : "<end>";
            if (left != right)
            {
                return $"Line {i + 1}:\n  expected: {left}\n  actual:   {right}";
            }
        }
        return "";
    }

    // The test runs from bin/<configuration>/<tfm>; the project directory is the nearest one above it holding this
    // project's .csproj. Compile-time source paths are no guide: CI builds map them to /_/.
    private static readonly Lazy<string> s_projectDirectory = new(() =>
    {
        for (var directory = AppContext.BaseDirectory; directory is not null; directory = Path.GetDirectoryName(directory.TrimEnd(Path.DirectorySeparatorChar)))
        {
            if (File.Exists(Path.Combine(directory, "RateGuard.Generator.Tests.csproj")))
            {
                return directory;
            }
        }
        throw new InvalidOperationException($"No RateGuard.Generator.Tests.csproj above {AppContext.BaseDirectory}.");
    });
}
