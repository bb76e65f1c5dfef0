using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

using RateGuard.Integration.Tests.Infrastructure;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>
/// The service behind the proxy: a Kestrel app on loopback that answers every request and counts them. A test may shape
/// the answer (its status, its headers) before the body is written.
/// </summary>
internal sealed class CountingBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private CountingBackend(WebApplication app, int port)
    {
        _app = app;
        Address = $"http://127.0.0.1:{port}/";
    }

    /// <summary>The address the proxy forwards to.</summary>
    public string Address { get; }

    /// <summary>How many requests reached the backend.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public static Task<CountingBackend> StartAsync(Action<HttpContext>? answer = null) => PortRange.Gateway.StartAsync(async port =>
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var backend = new CountingBackend(app, port);
        app.Run(context =>
        {
            Interlocked.Increment(ref backend._requests);
            answer?.Invoke(context);
            return context.Response.WriteAsync("backend");
        });
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return backend;
    });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
