using System.Diagnostics;
using System.Text;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Process;

/// <summary>The built sample running as its own process on a free loopback port.</summary>
public sealed class SampleProcess : IAsyncDisposable
{
    private readonly System.Diagnostics.Process _process;
    private readonly StringBuilder _output = new();

    private SampleProcess(string assembly, int port, string[] arguments, TimeSpan? clientTimeout)
    {
        Port = port;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(BaseAddress.ToString());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        _process = System.Diagnostics.Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Client = new HttpClient { BaseAddress = BaseAddress };
        if (clientTimeout is { } timeout)
        {
            Client.Timeout = timeout;
        }
    }

    public int Port { get; }

    /// <summary>The process id, to pin it to a core.</summary>
    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    public HttpClient Client { get; }

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

    /// <summary>Starts a sample and waits until it is ready and warmed up.</summary>
    public static Task<SampleProcess> StartAsync(string assembly, params string[] arguments) =>
        StartAsync(assembly, RedisServer.FreePort(), arguments, IsWarmAsync, TimeSpan.FromSeconds(30));

    /// <summary>
    /// Starts any app on <paramref name="port"/> and waits, up to <paramref name="wait"/>, until <paramref name="ready"/>
    /// says it is; an app that exits or is not ready by then fails the test with its output.
    /// </summary>
    public static async Task<SampleProcess> StartAsync(string assembly, int port, string[] arguments, Func<HttpClient, Task<bool>> ready, TimeSpan wait, TimeSpan? clientTimeout = null)
    {
        var app = new SampleProcess(assembly, port, arguments, clientTimeout);
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            try
            {
                if (await ready(app.Client))
                {
                    return app;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (app._process.HasExited || DateTime.UtcNow > deadline)
            {
                var output = app.Output;
                await app.DisposeAsync();
                throw new InvalidOperationException($"{Path.GetFileNameWithoutExtension(assembly)} did not start:\n{output}");
            }
            await Task.Delay(100);
        }
    }

    // Warms the limited path up on a bucket no test uses, so bursts run at full speed, and waits until the store itself
    // decides (a decided response carries the bucket's state), not the failure mode.
    private static async Task<bool> IsWarmAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/reports/health");
        if (!response.IsSuccessStatusCode)
        {
            return false;
        }
        using var warmUp = await client.GetAsync("/search?q=warm-up");
        return warmUp.IsSuccessStatusCode && warmUp.Headers.Contains("RateLimit");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
