using Microsoft.Extensions.Logging;

namespace RateGuard.Diagnostics;

internal static partial class Log
{
    // A warning for the first app of the process, Debug for every later one: a test suite that starts an app per test
    // would otherwise repeat it for each.
    [LoggerMessage(EventId = 1, EventName = "InMemoryStore",
        Message = "No Redis is configured for token buckets (TokenBuckets:Redis is empty and no IConnectionMultiplexer is registered): buckets live in memory and every limit applies per process, not across instances.")]
    public static partial void UsingInMemoryStore(ILogger logger, LogLevel level);

    [LoggerMessage(EventId = 2, EventName = "RedisStore", Level = LogLevel.Information,
        Message = "Token buckets are stored in Redis ({Endpoints}) with the {Clock} clock.")]
    public static partial void UsingRedisStore(ILogger logger, string endpoints, TokenBucketClock clock);

    [LoggerMessage(EventId = 3, EventName = "EndpointReloadFailed", Level = LogLevel.Error,
        Message = "The endpoints or the token-bucket configuration changed, but a limit is now invalid; the previous limits stay in force.")]
    public static partial void EndpointReloadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4, EventName = "StoreFailed", Level = LogLevel.Warning,
        Message = "Redis {Server} could not decide for bucket '{Bucket}' ({Reason}); the failure mode applies. {Suppressed} more failures on this server in the last {Period} were not logged.")]
    public static partial void StoreFailed(ILogger logger, string server, string bucket, string reason, int suppressed, TimeSpan period, Exception? exception);

    [LoggerMessage(EventId = 5, EventName = "CircuitOpened", Level = LogLevel.Error,
        Message = "Redis {Server} keeps failing: it will not be called for {BreakDuration}, and the buckets it holds get their failure mode meanwhile (Open, unless configured otherwise: each instance enforces its share of the limit).")]
    public static partial void CircuitOpened(ILogger logger, string server, TimeSpan breakDuration);

    [LoggerMessage(EventId = 6, EventName = "CircuitClosed", Level = LogLevel.Information,
        Message = "Redis {Server} answers again; limiting has resumed on its buckets. {Suppressed} failures were not logged since the last line about it.")]
    public static partial void CircuitClosed(ILogger logger, string server, int suppressed);

    [LoggerMessage(EventId = 7, EventName = "ConnectFailed", Level = LogLevel.Error,
        Message = "The connection to Redis could not be set up; every decision gets the failure mode. Check TokenBuckets:Redis.")]
    public static partial void ConnectFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8, EventName = "OverrideIgnored", Level = LogLevel.Error,
        Message = "The configured override of token bucket '{Bucket}' cannot apply; the limit declared in code stays in force.")]
    public static partial void OverrideIgnored(ILogger logger, string bucket, Exception exception);

    [LoggerMessage(EventId = 9, EventName = "HeartbeatFailed", Level = LogLevel.Debug,
        Message = "The instance heartbeat could not reach Redis ({Reason}); each instance's share of the limits keeps the instance count learned last.")]
    public static partial void HeartbeatFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 10, EventName = "RedisUnreachable", Level = LogLevel.Warning,
        Message = "Redis {Endpoints} is not reachable yet ({Reason}); every limit gets its failure mode until it is. The connection keeps being retried.")]
    public static partial void RedisUnreachable(ILogger logger, string endpoints, string reason);

    [LoggerMessage(EventId = 11, EventName = "RedisConnected", Level = LogLevel.Information,
        Message = "Connected to Redis {Endpoint}; limits are enforced there.")]
    public static partial void RedisConnected(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 12, EventName = "ScriptCannotRun", Level = LogLevel.Error,
        Message = "Redis {Endpoint} is connected but cannot run RateGuard's scripts: {Missing}. Every limit gets its failure mode until this is fixed; \"Securing Redis\" in docs/redis.md lists the commands and keys a RateGuard user needs. Redis said: {Reply}")]
    public static partial void ScriptCannotRun(ILogger logger, string endpoint, string missing, string reply);

    [LoggerMessage(EventId = 13, EventName = "ScriptChecked", Level = LogLevel.Debug,
        Message = "Redis {Endpoint} runs RateGuard's scripts.")]
    public static partial void ScriptChecked(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 14, EventName = "ReloadRefused",
        Level = LogLevel.Error,
        Message = "The token-bucket configuration changed, but the new settings are invalid, so none of them apply; the previous settings stay in force. {Reason}")]
    public static partial void ReloadRefused(ILogger logger, string reason, Exception? exception);

    [LoggerMessage(EventId = 15, EventName = "UnknownBuckets",
        Message = "TokenBuckets:Buckets has settings for {Unknown}, but no bucket of that name is in use, so they change nothing. The buckets are {Known}, each shown with the form an environment variable can use. A bucket that only the RateLimiter adapter uses can be declared with services.AddTokenBucketNames(...).")]
    public static partial void UnknownBuckets(ILogger logger, LogLevel level, string unknown, string known);

    [LoggerMessage(EventId = 16, EventName = "NoEndpointSelected", Level = LogLevel.Error,
        Message = "UseTokenBuckets() runs before UseRouting(): endpoint '{Endpoint}' was selected only after the limiter had run, so its limits were not applied. Call app.UseTokenBuckets() after app.UseRouting().")]
    public static partial void NoEndpointSelected(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 17, EventName = "NotAuthenticatedYet", Level = LogLevel.Error,
        Message = "UseTokenBuckets() runs before UseAuthentication(): bucket '{Bucket}' keys on {Key}, which is read before the user is known, so every request is treated as having no value for it. Call app.UseTokenBuckets() after app.UseAuthentication().")]
    public static partial void NotAuthenticatedYet(ILogger logger, string bucket, string key);

    [LoggerMessage(EventId = 18, EventName = "ResetSubscriptionFailed", Level = LogLevel.Warning,
        Message = "Could not subscribe to bucket resets in Redis: a reset made on another instance reaches this one only when its deny cache next asks Redis (within a second).")]
    public static partial void ResetSubscriptionFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 19, EventName = "RequestCanceled", Level = LogLevel.Debug,
        Message = "The client went away while its token buckets were being decided; the request ends there, unanswered.")]
    public static partial void RequestCanceled(ILogger logger);

    [LoggerMessage(EventId = 20, EventName = "ResetHeard", Level = LogLevel.Information,
        Message = "Bucket '{Bucket}' was reset for one client: this instance forgets what it remembered of that client's bucket (a rejection, its share while Redis was away).")]
    public static partial void ResetHeard(ILogger logger, string bucket);

    [LoggerMessage(EventId = 21, EventName = "EndpointMatchedOnRequest", Level = LogLevel.Debug,
        Message = "Endpoint '{Endpoint}' reached the limiter before its data source's change did: its limits were matched on this request rather than when the endpoints changed.")]
    public static partial void EndpointMatchedOnRequest(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 22, EventName = "ForwardedHeadersNotApplied", Level = LogLevel.Warning,
        Message = "A request to bucket '{Bucket}', keyed on ip, carries X-Forwarded-For, but its key is the connection's address {RemoteAddress}. Behind a proxy or load balancer every client then shares the proxy's bucket: call app.UseForwardedHeaders() before app.UseTokenBuckets(), with the proxy in ForwardedHeadersOptions.KnownProxies or KnownIPNetworks. When clients connect directly, the header is their own and this can be ignored. Reported at most once an hour.")]
    public static partial void ForwardedHeadersNotApplied(ILogger logger, string bucket, string remoteAddress);

    // Client overrides: event ids from 40, apart from those of the request path.
    [LoggerMessage(EventId = 40, EventName = "ClientOverrideSet", Level = LogLevel.Information,
        Message = "Client '{Key}' of bucket '{Bucket}' gets capacity {Capacity} and rate {Rate}/s until {ExpiresAt:O}, on every instance within a second; the store holds {Held} client overrides.")]
    public static partial void ClientOverrideSet(ILogger logger, string bucket, string key, int capacity, double rate, DateTimeOffset expiresAt, int held);

    [LoggerMessage(EventId = 41, EventName = "ClientOverrideRemoved", Level = LogLevel.Information,
        Message = "The override of client '{Key}' of bucket '{Bucket}' is removed, on every instance within a second.")]
    public static partial void ClientOverrideRemoved(ILogger logger, string bucket, string key);

    [LoggerMessage(EventId = 42, EventName = "ClientOverridesUnavailable", Level = LogLevel.Warning,
        Message = "The client overrides could not be read from the store ({Reason}): the {Count} known last stay in force on this instance, and changes made meanwhile reach it once the store answers. Logged once until it does.")]
    public static partial void ClientOverridesUnavailable(ILogger logger, int count, string reason);

    [LoggerMessage(EventId = 43, EventName = "ClientOverridesRestored", Level = LogLevel.Information,
        Message = "The client overrides are read from the store again: this instance holds {Count}.")]
    public static partial void ClientOverridesRestored(ILogger logger, int count);

    // Counting by outcome and shadow mode: event ids from 50.
    [LoggerMessage(EventId = 50, EventName = "ShadowRejections", Level = LogLevel.Warning,
        Message = "Bucket '{Bucket}' is in shadow mode and would have rejected {Count} requests in the last {Seconds:0} s; they were let through. Logged at most once a minute per bucket.")]
    public static partial void ShadowRejections(ILogger logger, string bucket, long count, double seconds);

    [LoggerMessage(EventId = 53, EventName = "FirstShadowRejection", Level = LogLevel.Warning,
        Message = "Bucket '{Bucket}' is in shadow mode and would have rejected a request; it was let through. From now on this is logged at most once a minute per bucket, with the count since the last line.")]
    public static partial void FirstShadowRejection(ILogger logger, string bucket);

    [LoggerMessage(EventId = 51, EventName = "ChargeClamped", Level = LogLevel.Warning,
        Message = "A request to bucket '{Bucket}' reported a cost of {Reported} tokens; {Charged} were charged: {Reason}. Logged at most once a minute per bucket.")]
    public static partial void ChargeClamped(ILogger logger, string bucket, string reported, long charged, string reason);

    [LoggerMessage(EventId = 52, EventName = "AdjustmentUnsupported", Level = LogLevel.Warning,
        Message = "Bucket '{Bucket}' counts by outcome or charges after the fact, but the token-bucket store {Store} cannot give tokens back or charge them after a decision: every request keeps the cost it was charged up front. Logged once.")]
    public static partial void AdjustmentUnsupported(ILogger logger, string bucket, string store);
}
