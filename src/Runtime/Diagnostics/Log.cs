using Microsoft.Extensions.Logging;

namespace RateGuard.Diagnostics;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "InMemoryStore", Level = LogLevel.Warning,
        Message = "No Redis is configured for token buckets (TokenBuckets:Redis is empty and no IConnectionMultiplexer is registered): buckets live in memory and every limit applies per process, not across instances.")]
    public static partial void UsingInMemoryStore(ILogger logger);

    [LoggerMessage(EventId = 2, EventName = "RedisStore", Level = LogLevel.Information,
        Message = "Token buckets are stored in Redis ({Endpoints}) with the {Clock} clock.")]
    public static partial void UsingRedisStore(ILogger logger, string endpoints, TokenBucketClock clock);

    [LoggerMessage(EventId = 3, EventName = "EndpointReloadFailed", Level = LogLevel.Error,
        Message = "The endpoints or the token-bucket configuration changed, but a limit is now invalid; the previous limits stay in force.")]
    public static partial void EndpointReloadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4, EventName = "StoreFailed", Level = LogLevel.Warning,
        Message = "The token-bucket store could not decide for bucket '{Bucket}' ({Reason}); the failure mode applies.")]
    public static partial void StoreFailed(ILogger logger, string bucket, string reason, Exception exception);

    [LoggerMessage(EventId = 5, EventName = "CircuitOpened", Level = LogLevel.Error,
        Message = "The token-bucket store keeps failing: it will not be called for {BreakDuration}, and {Fallback} applies meanwhile.")]
    public static partial void CircuitOpened(ILogger logger, TimeSpan breakDuration, string fallback);

    [LoggerMessage(EventId = 6, EventName = "CircuitClosed", Level = LogLevel.Information,
        Message = "The token-bucket store answers again; limiting has resumed.")]
    public static partial void CircuitClosed(ILogger logger);

    [LoggerMessage(EventId = 7, EventName = "ConnectFailed", Level = LogLevel.Error,
        Message = "The connection to Redis could not be set up; every decision gets the failure mode. Check TokenBuckets:Redis.")]
    public static partial void ConnectFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8, EventName = "OverrideIgnored", Level = LogLevel.Error,
        Message = "The configured override of token bucket '{Bucket}' cannot apply; the limit declared in code stays in force.")]
    public static partial void OverrideIgnored(ILogger logger, string bucket, Exception exception);
}
