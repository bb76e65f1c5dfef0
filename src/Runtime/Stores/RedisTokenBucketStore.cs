using System.Net;
using Microsoft.Extensions.Logging;
using RateGuard.Diagnostics;
using RateGuard.Operations;
using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>
/// Token buckets in Redis: one EVALSHA of the embedded script per decision, atomic across every app instance.
/// </summary>
/// <remarks>
/// The script is addressed by its SHA-1. When Redis does not know it (first use, <c>SCRIPT FLUSH</c>, a restart or
/// a failover) the <c>NOSCRIPT</c> reply is answered by running the script text once with EVAL, which also loads it,
/// so no decision is lost and later calls go back to EVALSHA. The limiter adds a deadline to each call, on the
/// server's clock, after which the script takes nothing: a call that its request stopped waiting for cannot take
/// tokens when Redis finally runs it.
/// </remarks>
public sealed class RedisTokenBucketStore : ITokenBucketStore, IAsyncDisposable, IDisposable
{
    private readonly Task<IConnectionMultiplexer> _redis;
    private readonly bool _ownsConnection;
    private readonly string _prefix;
    private readonly TimeProvider? _clientClock;
    private readonly ScriptBatcher _batcher;
    private readonly SlotOwners _owners = new();
    private readonly string? _endpoints;

    /// <summary>Creates a store over <paramref name="redis"/>.</summary>
    /// <param name="redis">The connection; it is not disposed with the store unless <paramref name="ownsConnection"/>.</param>
    /// <param name="keyPrefix">The first segment of every key.</param>
    /// <param name="clientClock">
    /// <see langword="null"/> to use the Redis server clock (the default: one clock for every instance); otherwise
    /// the clock whose time is sent with each decision, for servers that reject <c>TIME</c> in scripts and for tests.
    /// </param>
    /// <param name="ownsConnection">Whether disposing the store disposes <paramref name="redis"/>.</param>
    /// <remarks>The store measures how long its calls wait with <paramref name="clientClock"/> when one is given, else with the system clock.</remarks>
    public RedisTokenBucketStore(IConnectionMultiplexer redis, string keyPrefix = TokenBucketOptions.DefaultKeyPrefix, TimeProvider? clientClock = null, bool ownsConnection = false)
        : this(Task.FromResult(redis ?? throw new ArgumentNullException(nameof(redis))), keyPrefix, clientClock, ownsConnection, clientClock ?? TimeProvider.System)
    {
    }

    /// <summary>
    /// Creates a store over a connection that is still being made, so the app can start while Redis is down: until
    /// it is made, every decision fails at once and the failure mode applies.
    /// </summary>
    /// <param name="redis">The connection being made.</param>
    /// <param name="keyPrefix">The first segment of every key.</param>
    /// <param name="clientClock">The clock whose time each call carries, or <see langword="null"/> for the server's.</param>
    /// <param name="ownsConnection">Whether disposing the store disposes the connection.</param>
    /// <param name="time">The clock that measures how long calls wait: the limiter's, so that its budgets and these times agree.</param>
    /// <param name="endpoints">The servers as configured, for logs.</param>
    internal RedisTokenBucketStore(Task<IConnectionMultiplexer> redis, string keyPrefix, TimeProvider? clientClock, bool ownsConnection, TimeProvider time, string? endpoints = null)
    {
        _endpoints = endpoints;
        if (!BucketKey.IsValidPrefix(keyPrefix))
        {
            throw new ArgumentException($"Key prefix '{keyPrefix}' is invalid: {LimitRules.KeyPrefix}.", nameof(keyPrefix));
        }
        _redis = redis;
        _redis.ContinueWith(static (t, state) => ((RedisTokenBucketStore)state!).Watch(t.Result), this, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _prefix = keyPrefix;
        _clientClock = clientClock;
        _batcher = new ScriptBatcher(time, clientClock);
        _ownsConnection = ownsConnection;
    }

    /// <summary>Completes when the first connection attempt has finished, successfully or not.</summary>
    internal Task Connecting => _redis;

    /// <summary>The connection this store uses, or <see langword="null"/> while it is still being made.</summary>
    public IConnectionMultiplexer? Connection => _redis.IsCompletedSuccessfully ? _redis.Result : null;

    /// <summary>Whether the script reads Redis's own clock (so deadlines can be given on it).</summary>
    internal bool UsesServerClock => _clientClock is null;

    /// <summary>The key prefix, the first segment of every key.</summary>
    internal string Prefix => _prefix;

    /// <inheritdoc />
    /// <value><c>redis</c>.</value>
    public string Name => "redis";

    /// <inheritdoc />
    /// <value><see langword="false"/>: a script call cannot be recalled once sent; each carries a deadline after which it takes nothing.</value>
    public bool TakesRequestCancellation => false;

    /// <summary>The storage key of <paramref name="partitionKey"/> in the bucket of <paramref name="policy"/>.</summary>
    public string GetKey(TokenBucketPolicy policy, string partitionKey) => BucketKey.ComposeEncoded(_prefix, policy.KeySegment, partitionKey);

    /// <inheritdoc />
    public async ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(partitionKey);
        cancellationToken.ThrowIfCancellationRequested();
        var result = await DecideAsync([GetKey(policy, partitionKey)], [new BucketCharge(policy, policy.Cost, 0)], deadline: 0).WaitAsync(cancellationToken).ConfigureAwait(false);
        var decision = default(RateLimitDecision);
        TokenBucketScript.Read(result, new Span<RateLimitDecision>(ref decision));
        return decision;
    }

    /// <inheritdoc />
    /// <exception cref="TokenBucketStoreUnavailableException">Redis could not be reached, or refused the call.</exception>
    public async ValueTask<RateLimitDecision> PeekAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(partitionKey);
        cancellationToken.ThrowIfCancellationRequested();
        ScriptResult result;
        try
        {
            // A request that costs nothing and owes nothing: the script reads the bucket and writes nothing back.
            result = await DecideAsync([GetKey(policy, partitionKey)], [new BucketCharge(policy, 0, 0)], deadline: 0).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisException e)
        {
            throw new TokenBucketStoreUnavailableException(e.Message, e);
        }
        var decision = default(RateLimitDecision);
        TokenBucketScript.Read(result, new Span<RateLimitDecision>(ref decision));
        return decision;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The bucket is removed before anyone is told, so an instance that forgets it and asks again finds it full; then
    /// every instance on the same key prefix hears of the reset through Redis pub/sub.
    /// </remarks>
    /// <exception cref="TokenBucketStoreUnavailableException">Redis could not be reached, or refused the call.</exception>
    public async ValueTask ResetAsync(string bucket, string partitionKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        ArgumentNullException.ThrowIfNull(partitionKey);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await DeleteAsync(BucketKey.Compose(_prefix, bucket, partitionKey)).WaitAsync(cancellationToken).ConfigureAwait(false);
            await PublishResetAsync(bucket, BucketKey.Normalize(partitionKey)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisException e)
        {
            throw new TokenBucketStoreUnavailableException(e.Message, e);
        }
    }

    /// <inheritdoc />
    /// <remarks>Sends one <c>PING</c> and reports its round trip; fails while the connection has not been made yet.</remarks>
    /// <exception cref="TokenBucketStoreUnavailableException">No connection yet, or no answer to <c>PING</c> within <paramref name="timeout"/>.</exception>
    public async ValueTask<string> CheckHealthAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (Connection is not { } connection)
        {
            throw new TokenBucketStoreUnavailableException("The connection to Redis has not been made yet");
        }
        TimeSpan latency;
        try
        {
            latency = await connection.GetDatabase().PingAsync().WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = e is TimeoutException ? "did not answer PING within the decision budget" : $"failed PING ({e.GetType().Name})";
            throw new TokenBucketStoreUnavailableException($"Redis {reason}", e);
        }
        return $"Redis answered PING in {latency.TotalMilliseconds:F1} ms.";
    }

    /// <summary>
    /// Sends one request for the buckets of <paramref name="keys"/> (one cluster slot) as a call of its own, and waits for
    /// its answer however long it takes: the script charges each bucket its debt, then admits the request only if every
    /// bucket holds its cost, and charges them all or none, unless the server's clock is past <paramref name="deadline"/>
    /// (then nothing at all). Read the answer with <see cref="TokenBucketScript.Read"/>.
    /// </summary>
    /// <param name="keys">The buckets' storage keys, all in one cluster slot.</param>
    /// <param name="charges">Each bucket's cost and debt, in the order of <paramref name="keys"/>.</param>
    /// <param name="deadline">The server time in µs after which the request must take nothing; 0 for none.</param>
    internal Task<ScriptResult> DecideAsync(RedisKey[] keys, ReadOnlySpan<BucketCharge> charges, long deadline) =>
        Send(keys, charges, deadline, batched: false, TimeSpan.Zero).AnswerAsync();

    /// <summary>
    /// Sends one request as <see cref="DecideAsync"/> does, and returns it to be waited on (<see cref="PendingCall.WaitAsync"/>)
    /// without a task or timer of its own: with the others of its slot (<see cref="ScriptBatcher"/>) when
    /// <paramref name="batched"/>, else as a call of its own.
    /// </summary>
    /// <param name="keys">The buckets' storage keys, all in one cluster slot.</param>
    /// <param name="charges">Each bucket's cost and debt, in the order of <paramref name="keys"/>.</param>
    /// <param name="deadline">The server time in µs after which the request must take nothing; 0 for none.</param>
    /// <param name="batched">Whether it may go out with the other requests of its slot.</param>
    /// <param name="stall">How long the slot's newest call may be out before the request goes out without waiting for that call.</param>
    internal PendingCall Send(ReadOnlySpan<RedisKey> keys, ReadOnlySpan<BucketCharge> charges, long deadline, bool batched, TimeSpan stall)
    {
        var call = new PendingCall(keys, charges, deadline, batched, stall);
        // While Redis is unreachable, fail before touching the connection: a call made while the client is reconnecting
        // can block its caller synchronously, where no time budget can reach it.
        if (Connection is not { IsConnected: true } connection)
        {
            call.Fail(NotConnected());
        }
        else if (batched)
        {
            _batcher.Enqueue(connection.GetDatabase(), connection.HashSlot(keys[0]), call);
        }
        else
        {
            _batcher.SendAlone(connection.GetDatabase(), call);
        }
        return call;
    }

    /// <summary>Removes the bucket stored at <paramref name="storageKey"/>: a missing key is a full bucket.</summary>
    internal Task DeleteAsync(string storageKey) =>
        Connection is { IsConnected: true } connection
            ? connection.GetDatabase().KeyDeleteAsync(storageKey)
            : Task.FromException(NotConnected());

    /// <summary>
    /// Tells every instance subscribed through <see cref="OnReset"/> that the bucket named <paramref name="bucket"/>
    /// was reset for the client value stored as <paramref name="storedValue"/> (<see cref="BucketKey.Normalize"/>).
    /// Pub/sub reaches every subscriber, on a cluster too, whichever node each is connected to.
    /// </summary>
    internal Task PublishResetAsync(string bucket, string storedValue) =>
        Connection is { IsConnected: true } connection
            ? connection.GetSubscriber().PublishAsync(ResetChannel, string.Concat(bucket, ":", storedValue))
            : Task.FromException(NotConnected());

    /// <summary>
    /// Calls <paramref name="reset"/> with a bucket's name and a stored client value whenever any instance on this key
    /// prefix resets that bucket, from the moment the connection is first made until the returned object is disposed;
    /// the client subscribes again after a reconnect on its own.
    /// </summary>
    internal IDisposable OnReset(Action<string, string> reset, Action<Exception> failed)
    {
        Action<RedisChannel, RedisValue> handler = (_, message) =>
        {
            // Bucket names cannot hold ':', so the first one ends the name and the rest is the value, colons and all.
            var text = (string?)message;
            var colon = text?.IndexOf(':') ?? -1;
            if (colon > 0)
            {
                reset(text![..colon], text[(colon + 1)..]);
            }
        };
        _redis.ContinueWith(t => t.Result.GetSubscriber().SubscribeAsync(ResetChannel, handler)
            .ContinueWith(s => failed(s.Exception!.GetBaseException()), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default),
            CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        // A connection the app shares outlives this store: its handler goes when the store's owner does.
        return new Unsubscribe(this, handler);
    }

    private sealed class Unsubscribe(RedisTokenBucketStore store, Action<RedisChannel, RedisValue> handler) : IDisposable
    {
        public void Dispose()
        {
            if (store.Connection is { } connection)
            {
                _ = connection.GetSubscriber().UnsubscribeAsync(store.ResetChannel, handler, CommandFlags.FireAndForget);
            }
        }
    }

    private RedisChannel ResetChannel => RedisChannel.Literal(_prefix + ":resets");

    private static RedisConnectionException NotConnected() =>
        new(ConnectionFailureType.UnableToConnect, CommandFlags.None, "Redis is not connected.", null, CommandStatus.WaitingToBeSent);

    /// <summary>The hash slot of <paramref name="storageKey"/>; -1 without a cluster.</summary>
    internal int SlotOf(string storageKey) => Connection is { } connection ? connection.HashSlot(storageKey) : -1;

    /// <summary>Renews this instance's heartbeat (or removes it) and returns how many instances are alive.</summary>
    internal async Task<long> HeartbeatAsync(string instance, TimeSpan lasts, bool leave = false)
    {
        if (Connection is not { IsConnected: true } connection)
        {
            throw NotConnected();
        }
        RedisValue now = _clientClock is null ? RedisValue.EmptyString : _clientClock.GetUtcNow().ToUnixTimeMilliseconds();
        RedisValue[] args = [instance, (long)lasts.TotalMilliseconds, now, leave ? "leave" : RedisValue.EmptyString];
        return (long)await InstancesScript.EvaluateAsync(connection.GetDatabase(), [$"{_prefix}:instances"], args).ConfigureAwait(false);
    }

    internal static LuaScript InstancesScript { get; } = new("RateGuard.instances.lua");

    /// <summary>
    /// The server that owns the keys of <paramref name="slot"/> (<see cref="SlotOf"/>; -1 without a cluster), as the
    /// cluster says (<see cref="SlotOwners"/>), or <see langword="null"/> while none does or no connection is made yet.
    /// </summary>
    internal EndPoint? OwnerOf(int slot) => Connection is { } connection ? _owners.Of(connection, slot) : null;

    /// <summary>Whether <paramref name="server"/> owns any bucket's keys now (<see cref="SlotOwners"/>).</summary>
    internal bool Owns(EndPoint server) => Connection is not { } connection || _owners.Owns(connection, server);

    /// <summary>Raised when the client read the cluster's views again: a server may own nothing now, a slot may have an owner.</summary>
    internal event Action? OwnersChanged
    {
        add => _owners.Changed += value;
        remove => _owners.Changed -= value;
    }

    /// <summary>The servers this store was told to use, for logs.</summary>
    internal string Endpoints => _endpoints ?? (Connection is { } connection ? string.Join(",", connection.GetEndPoints().Select(Format)) : "Redis");

    /// <summary>
    /// Waits a moment for the first connection and checks that the server runs the scripts, so that the log says at
    /// startup whether limits hold from the first request. With Redis up, they do; with Redis down, the app starts
    /// anyway, the failure mode applies until the connection is made, and the scripts are checked then.
    /// </summary>
    /// <param name="heartbeat">Whether the instance heartbeat's script is checked too.</param>
    /// <param name="logger">Where to say which.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    internal async Task StartAsync(bool heartbeat, ILogger logger, CancellationToken cancellationToken)
    {
        await Task.WhenAny(Connecting, Task.Delay(s_connectWait, cancellationToken)).ConfigureAwait(false);
        if (Connection is { IsConnected: true })
        {
            await RedisScriptProbe.CheckAsync(this, heartbeat, logger, s_connectWait).ConfigureAwait(false);
            return;
        }
        Log.RedisUnreachable(logger, Endpoints, Connecting.IsCompleted ? "the first connection attempt failed" : $"no connection within {s_connectWait.TotalSeconds} s");
        WhenConnected(endpoint =>
        {
            Log.RedisConnected(logger, endpoint);
            _ = RedisScriptProbe.CheckAsync(this, heartbeat, logger, s_connectWait);
        });
    }

    // Long enough for a reachable Redis to answer, short enough that a down one does not hold startup for long.
    private static readonly TimeSpan s_connectWait = TimeSpan.FromSeconds(5);

    /// <summary>Calls <paramref name="connected"/> once, with the server's endpoint, when a connection is first made.</summary>
    internal void WhenConnected(Action<string> connected)
    {
        var fired = 0;
        void Fire(string endpoint)
        {
            if (Interlocked.Exchange(ref fired, 1) == 0)
            {
                connected(endpoint);
            }
        }
        ServerRestored += endpoint => Fire(Format(endpoint));
        _redis.ContinueWith(t =>
        {
            if (t.Result.IsConnected)
            {
                Fire(Endpoints);
            }
        }, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>An endpoint as a person writes it: <c>host:port</c>.</summary>
    internal static string Format(EndPoint endpoint) => endpoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endpoint.ToString() ?? "Redis",
    };

    /// <summary>Raised with a server's endpoint when its connection is made again.</summary>
    internal event Action<EndPoint>? ServerRestored;

    private void Watch(IConnectionMultiplexer connection)
    {
        connection.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Interactive && e.EndPoint is { } endpoint)
            {
                ServerRestored?.Invoke(endpoint);
            }
        };
        _owners.Watch(connection);
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
