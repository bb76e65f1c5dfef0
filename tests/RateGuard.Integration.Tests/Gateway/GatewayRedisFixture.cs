using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Gateway;

/// <summary>A real redis-server on a loopback port in the gateway tests' range, for one test class.</summary>
public sealed class GatewayRedisFixture : IDisposable
{
    public GatewayRedisFixture()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Server = RedisServer.Start(PortRange.Gateway.Next());
                return;
            }
            catch (Exception) when (attempt < 5)
            {
                // The port was taken after the probe: redis-server exits and never answers PING. Try another.
            }
        }
    }

    public RedisServer Server { get; }

    public void Dispose() => Server.Dispose();
}
