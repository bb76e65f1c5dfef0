using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RateGuard.Integration.Tests.Process;

using RateGuard.Integration.Tests.Infrastructure;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>Builds the gateway sample once, into a directory of its own, for tests that run it as a real process.</summary>
public sealed class GatewayProcessBuild : IDisposable
{
    public GatewayProcessBuild()
    {
        ArtifactsPath = Directory.CreateTempSubdirectory("rateguard-gateway-").FullName;
        var project = Path.Combine(SampleBuild.RepositoryRoot(), "samples", "Gateway", "Gateway.csproj");
        var (exitCode, output) = SampleBuild.Run("dotnet", ["build", project, "-c", "Release", "--artifacts-path", ArtifactsPath, "-warnaserror", "-nologo"], TimeSpan.FromMinutes(5));
        Assert.True(exitCode == 0, $"Building the gateway sample failed:\n{output}");
        Assembly = Directory.EnumerateFiles(ArtifactsPath, "Gateway.dll", SearchOption.AllDirectories).Single(p => p.Contains(Path.Combine("bin", "Gateway")));
    }

    public string ArtifactsPath { get; }

    public string Assembly { get; }

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
}

/// <summary>The built gateway sample running as its own process, on a loopback port, with its backend on another.</summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly System.Diagnostics.Process _process;
    private readonly StringBuilder _output = new();

    private GatewayProcess(string assembly, string[] arguments)
    {
        Port = PortRange.GatewayProcesses.Next();
        BackendPort = PortRange.GatewayProcesses.Next();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(BaseAddress.ToString());
        start.ArgumentList.Add($"--Backend:Port={BackendPort}");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        _process = System.Diagnostics.Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public int Port { get; }

    public int BackendPort { get; }

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

    /// <summary>
    /// Starts the gateway and waits until its unlimited route answers and a limited route is decided by the store (a
    /// decided response carries the bucket's state), on a key no test uses.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(string assembly, params string[] arguments)
    {
        var gateway = new GatewayProcess(assembly, arguments);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var open = await gateway.Client.GetAsync("/open/ready");
                if (open.IsSuccessStatusCode)
                {
                    using var warmUp = new HttpRequestMessage(HttpMethod.Get, "/reports/warm-up");
                    warmUp.Headers.Add("X-Api-Key", "warm-up-" + Guid.NewGuid().ToString("N"));
                    using var decided = await gateway.Client.SendAsync(warmUp);
                    if (decided.IsSuccessStatusCode && decided.Headers.Contains("RateLimit"))
                    {
                        return gateway;
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (gateway._process.HasExited || DateTime.UtcNow > deadline)
            {
                var output = gateway.Output;
                await gateway.DisposeAsync();
                throw new InvalidOperationException($"The gateway did not start:\n{output}");
            }
            await Task.Delay(100);
        }
    }

    public async Task<HttpResponseMessage> GetAsync(string path, string? apiKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (apiKey is not null)
        {
            request.Headers.Add("X-Api-Key", apiKey);
        }
        return await Client.SendAsync(request);
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
