using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using RateGuard.Clients;
using RateGuard.Configuration;
using RateGuard.Diagnostics;
using RateGuard.Limiting.Circuits;
using RateGuard.Limiting.Fallback;
using RateGuard.Limiting.Remote;
using RateGuard.Stores;

namespace RateGuard.Limiting;

/// <summary>
/// Decides requests: the entry the gates call. A request draws from all of its endpoint's buckets at once, all or
/// nothing: it is admitted only if every bucket holds its cost, and then every bucket is charged; if any rejects, none
/// is. In memory that is one call to the store. On a remote store the request goes one way through these rooms:
/// </summary>
/// <remarks>
/// <list type="number">
/// <item><see cref="DenyCache"/>: a rejection remembered until its retry-after rejects without asking the store.</item>
/// <item><see cref="StoreGroup"/>: the request's buckets split into the calls it needs (one per cluster slot), each on
/// the circuit of the server that owns its slot (<see cref="StoreCircuits"/>).</item>
/// <item><see cref="RedisDecision"/> (or <see cref="OwnStoreDecision"/> for a store of the app's own): each call within
/// its budget, late or failed calls told apart (<see cref="CallOutcomes"/>).</item>
/// <item><see cref="Settlement"/>: the request's outcome from its calls', the failure mode where the store could not
/// decide (<see cref="LocalFallback"/> for failure mode Open, charged back through <see cref="FallbackDebts"/>), and the
/// count (<see cref="DecisionCounter"/>).</item>
/// </list>
/// </remarks>
internal sealed class TokenBucketLimiter : IDisposable
{
    private readonly ITokenBucketStore _store;
    private readonly RedisTokenBucketStore? _redis;
    private readonly bool _local;
    private readonly CurrentOptions _options;
    private readonly StoreCircuits _circuits;
    private readonly DenyCache _denyCache;
    private readonly DecisionCounter _counter;
    private readonly LocalFallback? _fallback;
    private readonly FallbackDebts? _debts;
    private readonly Settlement? _settlement;
    private readonly RedisDecision? _redisDecision;
    private readonly OwnStoreDecision? _ownStoreDecision;
    private readonly ILogger _logger;
    private readonly TokenBucketMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly List<IDisposable> _owned = [];
    private readonly Action<TokenBucketOptions>? _reloaded;
    private InstanceHeartbeat? _heartbeat;

    public TokenBucketLimiter(ITokenBucketStore store, CurrentOptions options, TokenBucketMetrics metrics, ILoggerFactory loggers, TimeProvider time, ClientOverrides overrides)
    {
        _store = store;
        _local = store.IsLocal;
        _options = options;
        _logger = loggers.CreateLogger("RateGuard");
        _metrics = metrics;
        _time = time;
        // The breaker's settings and the deny cache's size shape what is built here, so they are read at startup.
        var startup = options.Value;
        _circuits = new StoreCircuits(store.Name, startup.BreakerFailureThreshold, startup.BreakDuration, time, _logger);
        _denyCache = new DenyCache(startup.DenyCache ? startup.DenyCacheSize : 0, time);
        var activity = Own(new ActivityTracker(time));
        _counter = new DecisionCounter(metrics, activity, new ShadowLog(_logger, time));
        metrics.ObserveCircuits(_circuits.Measurements);
        // The one place the limiter knows a store by its class: the Redis fast path is Redis (script calls batched per
        // slot, keys placed on their servers, deadlines on the server's clock, give-backs, debts charged back, resets
        // heard over pub/sub, the instance heartbeat, client overrides beside the buckets), and no store abstraction
        // could carry that without exposing Redis.
        _redis = store as RedisTokenBucketStore;
        // Client overrides are kept where every instance reads them when Redis holds the buckets; otherwise in this
        // process, as the buckets of the in-memory store are (a store of the app's own has no place for them).
        Overrides = Own(new ClientOverrideSync(_redis is null ? new LocalClientOverrideStore() : new RedisClientOverrideStore(_redis), overrides, time, _logger));
        metrics.ObserveOverrides(() => overrides.Count);
        if (_local)
        {
            return; // decided in this process: no budget, circuit, cache or fallback to pay for
        }
        _debts = _redis is null ? null : new FallbackDebts(_redis, _circuits, options, time);
        _fallback = Own(new LocalFallback(time, _debts));
        metrics.ObserveInstances(() => _fallback.Instances(_options.Value));
        _settlement = new Settlement(_fallback, _redis, _circuits, _counter);
        var wait = new ReplyWait(time);
        var outcomes = new CallOutcomes(store.Name, _denyCache, _fallback, metrics, _logger, time);
        if (_redis is null)
        {
            _ownStoreDecision = new OwnStoreDecision(store, wait, outcomes, _settlement, _counter, time);
        }
        else
        {
            _redisDecision = new RedisDecision(_redis, _circuits, Own(new ReplyWatch(time)), wait, outcomes, _debts!, _settlement, _counter, time);
            // An operator's reset on any instance: what this one remembers of that bucket no longer holds.
            Own(_redis.OnReset(Heard, e => Log.ResetSubscriptionFailed(_logger, e)));
            _redis.OwnersChanged += () => _circuits.Retire(_redis.Owns, slot => _redis.OwnerOf(slot) is not null);
            _redis.ServerRestored += server =>
            {
                _circuits.Restored(server);
                // The server may have come back without its data (a restart, a failover): a remembered rejection must
                // not outlive the bucket it stood for.
                _denyCache.Clear();
            };
        }
        StartHeartbeat(startup);
        // A reload may change limits: forget rejections decided under the old ones.
        _reloaded = o =>
        {
            _denyCache.Clear();
            StartHeartbeat(o);
        };
        options.Changed += _reloaded;
    }

    /// <summary>Each server's circuit, by the server's name.</summary>
    public IEnumerable<(string Server, CircuitState State)> Circuits => _circuits.States;

    /// <summary>The worst circuit state among the store's servers.</summary>
    public CircuitState CircuitState => _circuits.Worst;

    /// <summary>
    /// How many instances the local fallback divides each limit among while the store cannot decide: configured,
    /// learned from the other instances' heartbeats in Redis, or 1. A store in this process divides nothing.
    /// </summary>
    public int Instances => _fallback?.Instances(_options.Value) ?? 1;

    /// <summary>Whether decisions complete synchronously (a local store), so a synchronous caller may ask.</summary>
    public bool DecidesSynchronously => _local;

    public ITokenBucketStore Store => _store;

    /// <summary>The client overrides: where they are kept, and this instance's copy kept equal to it.</summary>
    public ClientOverrideSync Overrides { get; }

    /// <summary>What this instance decided per bucket lately, and whom it rejected.</summary>
    public ActivityTracker Activity => _counter.Activity;

    /// <summary>
    /// Gets the store ready before the first request: a Redis store's first connection is waited for a moment and its
    /// scripts checked, so that the log says at startup whether limits hold, and the client overrides are read, so
    /// that an instance that restarts applies them from its first request. Other stores have nothing to wait for.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_redis is not null)
        {
            await _redis.StartAsync(heartbeat: _options.Value.InstanceCount is null, _logger, cancellationToken).ConfigureAwait(false);
        }
        await Overrides.StartAsync().ConfigureAwait(false);
    }

    /// <summary>Decides one request for one bucket (the RateLimiter adapter's lease).</summary>
    public async ValueTask<LimiterResult> AcquireAsync(TokenBucketPolicy policy, FailureMode failureMode, string key, CancellationToken cancellationToken)
    {
        var request = LimitRequest.Rent();
        try
        {
            request.Add(policy, failureMode, key);
            await AcquireAsync(request, cancellationToken).ConfigureAwait(false);
            return request.Results[0];
        }
        finally
        {
            LimitRequest.Return(request);
        }
    }

    /// <summary>
    /// Decides <paramref name="request"/>: every bucket admits it and is charged, or none is charged. Fills each
    /// bucket's result and returns whether the request is admitted.
    /// </summary>
    public ValueTask<bool> AcquireAsync(LimitRequest request, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            // A request whose client has gone takes no tokens and no probe.
            _counter.CountCanceled(request);
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }
        if (_local)
        {
            // In this process the decision is synchronous and cannot fail.
            var admitted = request.AnyShadow && _store is InMemoryTokenBucketStore memory
                ? memory.AcquireAll(request.Policies, request.Keys, request.Decisions, request.ShadowFlags)
                : _store.AcquireAll(request.Policies, request.Keys, request.Decisions);
            var results = request.Results;
            for (var i = 0; i < results.Length; i++)
            {
                results[i] = new LimiterResult(request.Decisions[i], DecisionSource.Store);
            }
            _counter.Count(request, admitted);
            return new ValueTask<bool>(admitted);
        }
        var options = _options.Value;
        if (options.DenyCache && _denyCache.TryReject(request))
        {
            _counter.Count(request, admitted: false);
            return new ValueTask<bool>(false);
        }
        if (_redisDecision is null)
        {
            return _ownStoreDecision!.DecideAsync(request, StoreGroup.OnOwnStore(request, _circuits), options, cancellationToken);
        }
        var groups = StoreGroup.OnRedis(request, _redis!, _circuits);
        return groups.Length == 1
            ? _redisDecision.DecideAsync(groups[0], request, options, cancellationToken, whole: groups)
            : DecideSlotsAsync(request, groups, options, cancellationToken);
    }

    /// <summary>
    /// Charges <paramref name="key"/>'s bucket of <paramref name="policy"/> <paramref name="tokens"/> more after its
    /// request was decided (negative: gives them back, never above full), below empty into debt when
    /// <paramref name="overdraw"/>. On Redis it is one script request batched with the others, and nobody waits for it; a
    /// store of the app's own cannot, which is logged once.
    /// </summary>
    public void Adjust(TokenBucketPolicy policy, string key, int tokens, bool overdraw)
    {
        if (_redis is not null)
        {
            var options = _options.Value;
            _ = _redis.Send([_redis.GetKey(policy, key)], [new BucketCharge(policy, 0, tokens, Overdraw: overdraw)], deadline: 0, options.Batching, options.Timeout / 4);
        }
        else if (_store is InMemoryTokenBucketStore memory)
        {
            memory.Adjust(policy, key, tokens, overdraw);
        }
        else
        {
            // Nothing was adjusted, so nothing is counted.
            if (Interlocked.Exchange(ref _adjustmentsReported, 1) == 0)
            {
                Log.AdjustmentUnsupported(_logger, policy.Name, _store.GetType().Name);
            }
            return;
        }
        _metrics.Adjusted(policy.Name, tokens);
    }

    private int _adjustmentsReported;

    /// <summary>Counts a request that the bucket, in shadow mode, would have refused, and let through.</summary>
    public void CountShadowRejected(TokenBucketPolicy policy) => _counter.CountShadowRejected(policy);

    /// <summary>Counts a request refused because it had no value for the bucket's key.</summary>
    public void CountMissingKey(TokenBucketPolicy policy) => _counter.CountMissingKey(policy);

    /// <summary>Counts a request that skipped the bucket: an exempt key, network or plan.</summary>
    public void CountExempt(TokenBucketPolicy policy) => _counter.CountExempt(policy);

    /// <summary>Counts a request the bucket's deny list refused.</summary>
    public void CountDenied(TokenBucketPolicy policy) => _counter.CountDenied(policy);

    /// <summary>
    /// Forgets what this instance remembers of one client's bucket (its value as stored, <see cref="BucketKey.Normalize"/>):
    /// an operator reset it, here or on another instance, so the deny cache's rejection and the local fallback's share
    /// stand for a state the store no longer has.
    /// </summary>
    public void Forget(string bucket, string storedValue)
    {
        _denyCache.Forget(bucket, storedValue);
        _fallback?.Forget(bucket, storedValue);
        _debts?.Forget(bucket, storedValue);
    }

    // A reset made on any instance, this one included, heard over Redis pub/sub.
    private void Heard(string bucket, string storedValue)
    {
        Forget(bucket, storedValue);
        Log.ResetHeard(_logger, bucket);
    }

    // A request whose buckets span cluster slots: each slot's call at once, then the settlement, which gives back what
    // the slots that admitted took when another rejected.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> DecideSlotsAsync(LimitRequest request, StoreGroup[] groups, TokenBucketOptions options, CancellationToken cancellationToken)
    {
        try
        {
            var calls = new Task[groups.Length];
            for (var g = 0; g < groups.Length; g++)
            {
                calls[g] = _redisDecision!.DecideAsync(groups[g], request, options, cancellationToken).AsTask();
            }
            await Task.WhenAll(calls).ConfigureAwait(false);
            return _settlement!.Finish(request, groups, options);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _counter.CountCanceled(request);
            throw;
        }
    }

    // The instance count is learned from Redis unless configured: the heartbeat starts when it is first needed.
    private void StartHeartbeat(TokenBucketOptions options)
    {
        if (_redis is null || _fallback is null || options.InstanceCount is not null)
        {
            return;
        }
        lock (_owned)
        {
            _heartbeat ??= Own(new InstanceHeartbeat(_redis, _fallback, _time, _logger));
        }
    }

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        lock (_owned)
        {
            _owned.Add(disposable);
        }
        return disposable;
    }

    public void Dispose()
    {
        _options.Changed -= _reloaded;
        lock (_owned)
        {
            foreach (var owned in _owned)
            {
                owned.Dispose();
            }
            _owned.Clear();
        }
    }
}
