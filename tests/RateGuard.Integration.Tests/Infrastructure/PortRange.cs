using System.Net;
using System.Net.Sockets;

namespace RateGuard.Integration.Tests.Infrastructure;

/// <summary>
/// Loopback ports from a range of one suite's own, so the servers a test starts (Kestrel, Chromium's DevTools, gateway
/// processes) never take a port another suite's ephemeral listener is about to use. A port that another process takes
/// between the probe and the bind is skipped by trying again.
/// </summary>
public sealed class PortRange(int first, int count)
{
    /// <summary>The admin endpoints' Kestrel and Chromium.</summary>
    public static PortRange Admin { get; } = new(47000, 1000);

    /// <summary>The in-process gateways and their backends.</summary>
    public static PortRange Gateway { get; } = new(48000, 500);

    /// <summary>The gateway sample run as processes, and their backends.</summary>
    public static PortRange GatewayProcesses { get; } = new(48500, 500);

    private int _next = Random.Shared.Next(count);

    /// <summary>A port in the range that was free when probed.</summary>
    public int Next()
    {
        for (var attempt = 0; attempt < count * 2; attempt++)
        {
            var port = first + (int)((uint)Interlocked.Increment(ref _next) % count);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try the next one.
            }
        }
        throw new InvalidOperationException($"No free loopback port between {first} and {first + count - 1}.");
    }

    /// <summary>Builds an app for a free port and starts it, with another port when the bind loses a race.</summary>
    public async Task<T> StartAsync<T>(Func<int, Task<T>> start)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await start(Next());
            }
            catch (IOException) when (attempt < 10)
            {
                // Kestrel could not bind: another process took the port after the probe.
            }
        }
    }
}
