using System.Net;
using System.Net.Sockets;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>
/// Ports for the gateway tests' servers, all on loopback within 48000-48499, so they stay clear of other test runs on
/// the machine. A port that another process takes between the probe and the bind is skipped by retrying.
/// </summary>
internal static class LoopbackPorts
{
    private const int First = 48000;
    private const int Count = 500;
    private static int _next = Random.Shared.Next(Count);

    /// <summary>A port in the range that was free when probed.</summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < Count * 2; attempt++)
        {
            var port = First + (int)((uint)Interlocked.Increment(ref _next) % Count);
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
        throw new InvalidOperationException($"No free loopback port between {First} and {First + Count - 1}.");
    }

    /// <summary>Builds an app for a free port and starts it, with another port when the bind loses a race.</summary>
    public static async Task<T> StartAsync<T>(Func<int, Task<T>> start)
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
