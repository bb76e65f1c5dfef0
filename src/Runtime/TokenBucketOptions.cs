using Microsoft.AspNetCore.Http;

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

    /// <summary>Which rate-limit headers go on admitted and rejected responses.</summary>
    public RateLimitHeaderStyle Headers { get; set; } = RateLimitHeaderStyle.Draft;

    /// <summary>The status code of a request that a bucket rejects. Defaults to 429.</summary>
    public int RejectionStatusCode { get; set; } = StatusCodes.Status429TooManyRequests;

    /// <summary>What happens to a request that has no value for a bucket's key (no such header, an anonymous user...).</summary>
    public MissingKeyBehavior MissingKey { get; set; } = MissingKeyBehavior.Reject;

    /// <summary>The status code when <see cref="MissingKey"/> rejects. Defaults to 403, as a deny-empty-key gateway answers.</summary>
    public int MissingKeyStatusCode { get; set; } = StatusCodes.Status403Forbidden;

    /// <summary>
    /// Writes the response of a rejected request instead of the default problem body. The status code and the
    /// <c>Retry-After</c> and rate-limit headers are already set when it is called; it may change them.
    /// </summary>
    public Func<TokenBucketRejectedContext, ValueTask>? OnRejected { get; set; }
}

/// <summary>The rate-limit headers a response carries.</summary>
public enum RateLimitHeaderStyle
{
    /// <summary>The IETF draft fields: <c>RateLimit-Policy: "name";q=10;w=2</c> and <c>RateLimit: "name";r=3;t=1</c>.</summary>
    Draft,

    /// <summary>The <c>X-RateLimit-*</c> headers that Spring Cloud Gateway sends.</summary>
    Legacy,

    /// <summary>No rate-limit headers; a rejection still carries <c>Retry-After</c>.</summary>
    None,
}

/// <summary>What happens to a request that has no value for a bucket's key.</summary>
public enum MissingKeyBehavior
{
    /// <summary>Reject it with <see cref="TokenBucketOptions.MissingKeyStatusCode"/> (403 by default).</summary>
    Reject,

    /// <summary>Let it through without consulting that bucket.</summary>
    Admit,
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
