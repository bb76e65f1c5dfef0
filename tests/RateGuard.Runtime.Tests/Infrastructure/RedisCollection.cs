using RateGuard.TestSupport;

namespace RateGuard.Runtime.Tests.Infrastructure;

/// <summary>The tests that share one redis-server.</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis";
}
