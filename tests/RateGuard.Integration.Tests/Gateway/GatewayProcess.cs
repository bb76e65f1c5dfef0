using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Integration.Tests.Process;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>Builds the gateway sample once, into a directory of its own, for tests that run it as a real process.</summary>
public sealed class GatewayProcessBuild : IDisposable
{
    public GatewayProcessBuild()
    {
        ArtifactsPath = Directory.CreateTempSubdirectory("rateguard-gateway-").FullName;
        Assembly = SampleBuild.Build("Gateway", ArtifactsPath);
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
    private readonly SampleProcess _process;

    private GatewayProcess(SampleProcess process) => _process = process;

    public int ProcessId => _process.ProcessId;

    public bool HasExited => _process.HasExited;

    public HttpClient Client => _process.Client;

    public string Output => _process.Output;

    /// <summary>
    /// Starts the gateway and waits until its unlimited route answers and a limited route is decided by the store (a
    /// decided response carries the bucket's state), on a key no test uses.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(string assembly, params string[] arguments)
    {
        var backendPort = PortRange.GatewayProcesses.Next();
        var process = await SampleProcess.StartAsync(assembly, PortRange.GatewayProcesses.Next(), [$"--Backend:Port={backendPort}", .. arguments],
            IsReadyAsync, TimeSpan.FromSeconds(60), clientTimeout: TimeSpan.FromSeconds(10));
        return new GatewayProcess(process);
    }

    private static async Task<bool> IsReadyAsync(HttpClient client)
    {
        using var open = await client.GetAsync("/open/ready");
        if (!open.IsSuccessStatusCode)
        {
            return false;
        }
        using var warmUp = new HttpRequestMessage(HttpMethod.Get, "/reports/warm-up");
        warmUp.Headers.Add("X-Api-Key", "warm-up-" + Guid.NewGuid().ToString("N"));
        using var decided = await client.SendAsync(warmUp);
        return decided.IsSuccessStatusCode && decided.Headers.Contains("RateLimit");
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

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
