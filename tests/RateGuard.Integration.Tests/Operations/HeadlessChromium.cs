using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

using RateGuard.Integration.Tests.Infrastructure;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// Debian's <c>chromium</c>, headless, with its DevTools endpoint on a free loopback port and a profile directory of
/// its own; killed by process id and its profile deleted on dispose. It never skips: a browser that is missing or
/// does not start fails the test with the reason.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    // Generous: a cold start on a busy two-core machine can take many seconds.
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(120);

    private readonly System.Diagnostics.Process _process;
    private readonly StringBuilder _output = new();
    // True once the DevTools endpoint listens, false when its port turned out to be taken.
    private readonly TaskCompletionSource<bool> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private HeadlessChromium(string executable, int port, string profile)
    {
        Port = port;
        ProfileDirectory = profile;
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in Arguments(port, profile))
        {
            start.ArgumentList.Add(argument);
        }
        _process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start.");
        _process.OutputDataReceived += (_, e) => Record(e.Data);
        _process.ErrorDataReceived += (_, e) => Record(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The loopback port of the DevTools endpoint.</summary>
    public int Port { get; }

    /// <summary>The temporary profile directory (<c>--user-data-dir</c>), deleted on dispose.</summary>
    public string ProfileDirectory { get; }

    /// <summary>What the browser printed so far, for failure messages.</summary>
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

    /// <summary>Starts the browser and waits until its DevTools endpoint listens.</summary>
    public static async Task<HeadlessChromium> StartAsync()
    {
        var executable = FindExecutable();
        for (var attempt = 1; ; attempt++)
        {
            var profile = Directory.CreateTempSubdirectory("rateguard-chromium-").FullName;
            var browser = new HeadlessChromium(executable, PortRange.Admin.Next(), profile);
            try
            {
                if (await browser.WaitUntilListeningAsync(lastTry: attempt == 3))
                {
                    return browser;
                }
            }
            catch
            {
                await browser.DisposeAsync();
                throw;
            }
            // The port was taken between the check and the browser's bind: another port, another browser.
            await browser.DisposeAsync();
        }
    }

    /// <summary>A DevTools session on the browser's first tab.</summary>
    public async Task<DevToolsSession> OpenPageAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var targets = await http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{Port}/json/list");
        var page = targets.EnumerateArray().FirstOrDefault(t => t.GetProperty("type").GetString() == "page");
        Assert.True(page.ValueKind == JsonValueKind.Object, $"Chromium has no page to drive. Its targets: {targets}");
        return await DevToolsSession.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!));
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        try
        {
            if (!_process.HasExited)
            {
                // By its process id, with the renderer and other child processes it started.
                _process.Kill(entireProcessTree: true);
            }
            using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(exited.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            // Already gone, or not gone within 30 s: the profile is still removed below as far as it can be.
        }
        finally
        {
            _process.Dispose();
        }
        // A child process may still be closing files in the profile for a moment after the kill.
        for (var attempt = 0; attempt < 20 && Directory.Exists(ProfileDirectory); attempt++)
        {
            try
            {
                Directory.Delete(ProfileDirectory, recursive: true);
            }
            catch (IOException)
            {
                await Task.Delay(250);
            }
            catch (UnauthorizedAccessException)
            {
                await Task.Delay(250);
            }
        }
    }

    private static IEnumerable<string> Arguments(int port, string profile)
    {
        yield return "--headless=new";
        // Chromium's sandbox needs user namespaces or a setuid sandbox binary; test machines and CI run as root in
        // containers, where it cannot start. The pages it opens here are the test's own.
        yield return "--no-sandbox";
        yield return "--disable-gpu";
        yield return "--disable-dev-shm-usage";
        yield return "--no-first-run";
        yield return "--no-default-browser-check";
        yield return "--disable-extensions";
        yield return "--disable-background-networking";
        yield return "--disable-component-update";
        yield return "--disable-sync";
        yield return "--hide-scrollbars";
        yield return "--mute-audio";
        yield return "--remote-debugging-address=127.0.0.1";
        yield return $"--remote-debugging-port={port}";
        yield return $"--user-data-dir={profile}";
        yield return "--window-size=1280,900";
        yield return "about:blank";
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
        // Chromium announces its endpoint on stderr once it listens, or says why it cannot.
        if (line.Contains("DevTools listening on ws://", StringComparison.Ordinal))
        {
            _listening.TrySetResult(true);
        }
        else if (line.Contains("Cannot start http server for devtools", StringComparison.OrdinalIgnoreCase))
        {
            _listening.TrySetResult(false);
        }
    }

    // True when the endpoint listens; false when its port was taken (on the last try, that fails the test too).
    private async Task<bool> WaitUntilListeningAsync(bool lastTry)
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_listening.Task, exited, Task.Delay(s_startTimeout));
        if (first == _listening.Task && (_listening.Task.Result || !lastTry))
        {
            return _listening.Task.Result;
        }
        var reason = first == _listening.Task ? "could not listen on its DevTools port"
            : first == exited ? $"exited with code {_process.ExitCode}" : $"did not open its DevTools endpoint within {s_startTimeout.TotalSeconds} s";
        throw new InvalidOperationException($"Chromium {reason} (DevTools port {Port}). Its output:\n{Output}");
    }

    private static string FindExecutable()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/local/bin");
        foreach (var name in (ReadOnlySpan<string>)["chromium", "chromium-browser"])
        {
            foreach (var directory in path)
            {
                var candidate = Path.Combine(directory, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        throw new InvalidOperationException(
            "chromium is not installed, and the admin page tests drive it headless. Install Debian's package " +
            "(apt-get install chromium), as ./test.sh does when it is missing.");
    }
}
