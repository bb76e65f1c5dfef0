using System.Diagnostics;
using System.Text;
using RateGuard.Testing;

namespace RateGuard.Integration.Tests.Process;

/// <summary>The built sample running as its own process on a free loopback port.</summary>
public sealed class SampleProcess : IAsyncDisposable
{
    private readonly System.Diagnostics.Process _process;
    private readonly StringBuilder _output = new();

    private SampleProcess(string assembly, string[] arguments)
    {
        Port = RedisServer.FreePort();
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
    }

    public int Port { get; }

    /// <summary>The process id, to pin it to a core.</summary>
    public int ProcessId => _process.Id;

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
    public static Task<SampleProcess> StartAsync(string assembly, params string[] arguments) => StartCoreAsync(assembly, null, arguments);

    /// <summary>Starts any app and waits only until <paramref name="readyPath"/> answers.</summary>
    public static Task<SampleProcess> StartAppAsync(string assembly, string readyPath) => StartCoreAsync(assembly, readyPath, []);

    private static async Task<SampleProcess> StartCoreAsync(string assembly, string? readyPath, string[] arguments)
    {
        var sample = new SampleProcess(assembly, arguments);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var response = await sample.Client.GetAsync(readyPath ?? "/reports/health");
                if (readyPath is not null && response.IsSuccessStatusCode)
                {
                    return sample;
                }
                if (response.IsSuccessStatusCode)
                {
                    // Warm the limited path up on a bucket no test uses, so bursts run at full speed, and wait until the
                    // store itself decides (a decided response carries the bucket's state), not the failure mode.
                    using var warmUp = await sample.Client.GetAsync("/search?q=warm-up");
                    if (warmUp.IsSuccessStatusCode && warmUp.Headers.Contains("RateLimit"))
                    {
                        return sample;
                    }
                }
            }
            catch (HttpRequestException)
            {
            }
            if (sample._process.HasExited || DateTime.UtcNow > deadline)
            {
                var output = sample.Output;
                await sample.DisposeAsync();
                throw new InvalidOperationException($"The sample did not start:\n{output}");
            }
            await Task.Delay(100);
        }
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
