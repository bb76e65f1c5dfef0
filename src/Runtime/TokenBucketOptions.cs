namespace RateGuard;

/// <summary>Options for token-bucket rate limiting, bound from the <c>TokenBuckets</c> configuration section.</summary>
public sealed class TokenBucketOptions
{
    /// <summary>The default <see cref="KeyPrefix"/>.</summary>
    public const string DefaultKeyPrefix = "rg";

    /// <summary>
    /// A StackExchange.Redis configuration string such as <c>localhost:6379</c>. When empty, an
    /// <c>IConnectionMultiplexer</c> registered in DI is used; when there is none either, buckets live in memory and
    /// every limit applies per process.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>The first segment of every Redis key. Letters, digits and <c>. _ - /</c>.</summary>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>Which clock the Redis store measures refills with.</summary>
    public TokenBucketClock Clock { get; set; } = TokenBucketClock.RedisServer;

    /// <summary>How often the in-memory store removes buckets that have refilled.</summary>
    public TimeSpan InMemorySweepInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The clock a store measures refills with.</summary>
public enum TokenBucketClock
{
    /// <summary>Redis's own <c>TIME</c>: one clock for every app instance, so clock skew between servers cannot loosen a limit.</summary>
    RedisServer,

    /// <summary>
    /// The app's <see cref="TimeProvider"/>, sent with each decision: for managed Redis offerings that reject <c>TIME</c>
    /// in scripts, and for deterministic tests. Every instance's clock must then agree.
    /// </summary>
    Client,
}
