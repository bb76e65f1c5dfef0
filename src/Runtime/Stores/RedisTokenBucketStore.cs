using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>
/// Token buckets in Redis: one EVALSHA of the embedded script per decision, atomic across every app instance.
/// </summary>
/// <remarks>
/// The script is addressed by its SHA-1. When Redis does not know it (first use, <c>SCRIPT FLUSH</c>, a restart or
/// a failover) the <c>NOSCRIPT</c> reply is answered by running the script text once with EVAL, which also loads it,
/// so no decision is lost and later calls go back to EVALSHA.
/// </remarks>
public sealed class RedisTokenBucketStore : ITokenBucketStore, IAsyncDisposable, IDisposable
{
    private readonly Task<IConnectionMultiplexer> _redis;
    private readonly bool _ownsConnection;
    private readonly string _prefix;
    private readonly TimeProvider? _clientClock;

    /// <summary>Creates a store over <paramref name="redis"/>.</summary>
    /// <param name="redis">The connection; it is not disposed with the store unless <paramref name="ownsConnection"/>.</param>
    /// <param name="keyPrefix">The first segment of every key.</param>
    /// <param name="clientClock">
    /// <see langword="null"/> to use the Redis server clock (the default: one clock for every instance); otherwise
    /// the clock whose time is sent with each decision, for servers that reject <c>TIME</c> in scripts and for tests.
    /// </param>
    /// <param name="ownsConnection">Whether disposing the store disposes <paramref name="redis"/>.</param>
    public RedisTokenBucketStore(IConnectionMultiplexer redis, string keyPrefix = TokenBucketOptions.DefaultKeyPrefix, TimeProvider? clientClock = null, bool ownsConnection = false)
        : this(Task.FromResult(redis ?? throw new ArgumentNullException(nameof(redis))), keyPrefix, clientClock, ownsConnection)
    {
    }

    /// <summary>
    /// Creates a store over a connection that is still being made, so the app can start while Redis is down: until
    /// it is made, every decision fails at once and the failure mode applies.
    /// </summary>
    internal RedisTokenBucketStore(Task<IConnectionMultiplexer> redis, string keyPrefix, TimeProvider? clientClock, bool ownsConnection)
    {
        if (!BucketKey.IsValidPrefix(keyPrefix))
        {
            throw new ArgumentException($"Key prefix '{keyPrefix}' is invalid: {TokenBucketPolicy.NameRule}", nameof(keyPrefix));
        }
        _redis = redis;
        _prefix = keyPrefix;
        _clientClock = clientClock;
        _ownsConnection = ownsConnection;
    }

    /// <summary>Completes when the first connection attempt has finished, successfully or not.</summary>
    internal Task Connecting => _redis;

    /// <summary>The connection this store uses, or <see langword="null"/> while it is still being made.</summary>
    public IConnectionMultiplexer? Connection => _redis.IsCompletedSuccessfully ? _redis.Result : null;

    /// <summary>The storage key of <paramref name="partitionKey"/> in the bucket of <paramref name="policy"/>.</summary>
    public string GetKey(TokenBucketPolicy policy, string partitionKey) => BucketKey.Compose(_prefix, policy.Name, partitionKey);

    /// <inheritdoc />
    public async ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(partitionKey);
        cancellationToken.ThrowIfCancellationRequested();

        RedisKey[] keys = [GetKey(policy, partitionKey)];
        var args = _clientClock is null
            ? policy.ServerClockArguments
            : [policy.IntervalMicroseconds, policy.Capacity, policy.Cost, UnixClock.NowMicroseconds(_clientClock)];
        // While Redis is unreachable, fail before touching the connection: a call made while the client is
        // reconnecting can block its caller synchronously, where no time budget can reach it.
        var connection = Connection is { IsConnected: true } connected ? connected
            : throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "Redis is not connected.", null, CommandStatus.WaitingToBeSent);
        var database = connection.GetDatabase();

        RedisResult result;
        try
        {
            result = await database.ScriptEvaluateAsync(TokenBucketScript.Sha1, keys, args).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            result = await database.ScriptEvaluateAsync(TokenBucketScript.Text, keys, args).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        return TokenBucketScript.Parse(result);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsConnection)
        {
            _redis.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_ownsConnection && _redis.IsCompletedSuccessfully)
        {
            await _redis.Result.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            Dispose();
        }
    }
}
