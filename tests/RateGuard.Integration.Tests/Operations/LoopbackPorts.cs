using System.Net;
using System.Net.Sockets;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// Free loopback ports for the servers the admin tests start (Kestrel, Chromium's DevTools), from a range of their own
/// so they never take a port that another test's ephemeral listener is about to use.
/// </summary>
public static class LoopbackPorts
{
    private const int First = 47000;
    private const int Count = 1000;

    /// <summary>A port in the range that nothing listens on at this moment.</summary>
    public static int Free()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = First + Random.Shared.Next(Count);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }
        throw new InvalidOperationException($"No free loopback port between {First} and {First + Count - 1} after 200 tries.");
    }
}
