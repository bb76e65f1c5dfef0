using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace RateGuard.Integration.Tests.Process;

/// <summary>
/// Shell commands as a reader runs them: a non-interactive bash without profile or rc files, in a given directory,
/// with no standard input. A command that outlives its time, and one started in the background, is killed by its
/// process id together with every process it started.
/// </summary>
public sealed class Shell : IAsyncDisposable
{
    private readonly System.Diagnostics.Process _process;
    private readonly StringBuilder _output = new();

    private Shell(string script, string directory)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--noprofile", "--norc", "-c", script })
        {
            start.ArgumentList.Add(argument);
        }
        // Builds started here leave no MSBuild node or compiler server running after them: nothing outlives the test.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["UseSharedCompilation"] = "false";
        start.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        _process = System.Diagnostics.Process.Start(start)!;
        _process.StandardInput.Close();
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Standard output and standard error, interleaved as they arrived.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Runs <paramref name="script"/> to its end, or kills it after <paramref name="timeout"/> (exit code -1).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string script, string directory, TimeSpan timeout)
    {
        await using var shell = new Shell(script, directory);
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await shell._process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            return (-1, $"timed out after {timeout}:\n{shell.Output}");
        }
        // The exit event can come before the last lines of output; the parameterless wait drains them.
        shell._process.WaitForExit();
        return (shell._process.ExitCode, shell.Output);
    }

    /// <summary>Starts <paramref name="script"/> in the background; disposing the result kills it.</summary>
    public static Shell Start(string script, string directory) => new(script, directory);

    /// <summary>
    /// Waits until something accepts connections on the loopback <paramref name="port"/>. A connection is no request,
    /// so an app behind the port spends nothing of its limits on being waited for.
    /// </summary>
    public async Task WaitForPortAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
            }
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"Nothing listened on port {port} within {timeout}:\n{Output}");
            }
            await Task.Delay(250);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
