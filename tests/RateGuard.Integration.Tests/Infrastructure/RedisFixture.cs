using RateGuard.Testing;

namespace RateGuard.Integration.Tests.Infrastructure;

/// <summary>A real redis-server for one test class.</summary>
public sealed class RedisFixture : IDisposable
{
    public RedisServer Server { get; } = RedisServer.Start();

    public void Dispose() => Server.Dispose();
}
