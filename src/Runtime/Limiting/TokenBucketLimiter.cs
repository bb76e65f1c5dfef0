using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RateGuard.Diagnostics;
using RateGuard.Stores;
using StackExchange.Redis;

namespace RateGuard.Limiting;

/// <summary>
/// Turns a store into decisions a request can rely on. For a remote store it adds what production needs: a deny cache
/// in front, a time budget per call, a circuit breaker per server, the failure mode (or a local fallback) when Redis
/// cannot decide, and metrics for all of it. An in-memory store is called directly.
/// </summary>
/// <remarks>
/// <para>
/// The budget is for a slow or absent Redis, never for a slow process. A reply is a decision, however late this
/// process gets round to reading it: while work queues up in the thread pool, the wait goes on, up to
/// <see cref="LongestWait"/> budgets; a call that reached Redis after its deadline because of a stall on its way took
/// nothing and is sent once more. When Redis is gone or hung and this process keeps up, the budget bounds the wait.
/// </para>
/// <para>
/// Each call carries a deadline on the Redis clock (the end of its budget), after which the script takes nothing:
/// a request answered by the failure mode cannot take tokens when Redis finally runs its call. A connection reset, a
/// slot move or a cluster failover in progress is retried within the budget, with the same deadline.
/// </para>
/// </remarks>
internal sealed class TokenBucketLimiter : IDisposable
{
    /// <summary>How many budgets a call may wait in all while this process is too busy to read its reply.</summary>
    public const int LongestWait = 20;

    // Work items waiting in the thread pool that mean this process is behind, not merely busy.
    private static readonly int s_busyQueue = Math.Max(16, 4 * Environment.ProcessorCount);

    // Between two tries of a call that failed on its way (a connection being made again, a slot moving).
    private static readonly TimeSpan s_retryPause = TimeSpan.FromMilliseconds(5);
    // How often the tokens admitted locally are charged back at most, while some server is still away.
    private static readonly TimeSpan s_debtFlushPause = TimeSpan.FromMilliseconds(250);

    private readonly ITokenBucketStore _store;
    private readonly RedisTokenBucketStore? _redis;
    private readonly bool _remote;
    private readonly string _storeName;
    private readonly TokenBucketMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly int _breakerThreshold;
    private readonly TimeSpan _breakDuration;
    private readonly StoreNode _storeNode;
    private readonly ConcurrentDictionary<EndPoint, StoreNode> _nodes = new();
    private readonly DenyCache _denyCache;
    private readonly ConditionalWeakTable<TokenBucketPolicy, ConfiguredPolicy> _configured = new();
    private IgnoredOverrides _overridesIgnored = new(null);
    private readonly IDisposable? _reloadSubscription;
    private readonly object _fallbackGate = new();
    private LocalFallback? _fallback;
    private InstanceHeartbeat? _heartbeat;
    private int _flushingDebts;
    private long _lastDebtFlush = long.MinValue;
    private TokenBucketOptions _options;

    public TokenBucketLimiter(ITokenBucketStore store, IOptionsMonitor<TokenBucketOptions> options, TokenBucketMetrics metrics, ILoggerFactory loggers, TimeProvider time)
    {
        _store = store;
        _redis = store as RedisTokenBucketStore;
        _remote = store is not InMemoryTokenBucketStore;
        _storeName = _redis is not null ? "redis" : _remote ? "custom" : "memory";
        _metrics = metrics;
        _logger = loggers.CreateLogger("RateGuard");
        _time = time;
        _options = options.CurrentValue;
        // The breaker's settings and the deny cache's size are read at startup; limits and failure modes reload.
        _breakerThreshold = _options.BreakerFailureThreshold;
        _breakDuration = _options.BreakDuration;
        _storeNode = CreateNode(_redis is not null ? "redis" : _storeName);
        _denyCache = new DenyCache(_options.DenyCache ? _options.DenyCacheSize : 0, time);
        metrics.ObserveBreakers(BreakerStates);
        if (_redis is not null)
        {
            _redis.ServerRestored += endpoint =>
            {
                NodeOf(endpoint).Restored();
                // The server may have come back without its data (a restart, a failover): a remembered rejection
                // must not outlive the bucket it stood for.
                _denyCache.Clear();
            };
        }
        StartFallback(_options);
        // A reload may change limits: forget rejections decided under the old ones.
        _reloadSubscription = options.OnChange(o =>
        {
            _options = o;
            _denyCache.Clear();
            StartFallback(o);
        });
    }

    /// <summary>The worst circuit state among the store's servers.</summary>
    public CircuitState CircuitState
    {
        get
        {
            var worst = _storeNode.Breaker.State;
            foreach (var node in _nodes.Values)
            {
                if (node.Breaker.State == CircuitState.Open || (node.Breaker.State == CircuitState.HalfOpen && worst == CircuitState.Closed))
                {
                    worst = node.Breaker.State;
                }
            }
            return worst;
        }
    }

    /// <summary>Each server's circuit, by the server's name.</summary>
    public IEnumerable<(string Server, CircuitState State)> Circuits =>
        _nodes.IsEmpty ? [(_storeNode.Name, _storeNode.Breaker.State)] : _nodes.Values.Select(n => (n.Name, n.Breaker.State));

    /// <summary>How many instances the local fallback divides each limit among: configured, learned from Redis, or 1.</summary>
    public int FallbackInstances => _fallback?.Instances(_options) ?? _options.InstanceCount ?? 1;

    /// <summary>Whether decisions complete synchronously (the in-memory store), so a synchronous caller may ask.</summary>
    public bool DecidesSynchronously => !_remote;

    public ITokenBucketStore Store => _store;

    /// <summary>
    /// <paramref name="declared"/> and its failure mode as the current configuration has them: the options' failure
    /// mode, and the overrides of <c>TokenBuckets:Buckets:&lt;name&gt;</c>. Worked out once per policy and reload. An
    /// override that cannot apply is logged, and the declared policy stands; this never throws on a request.
    /// </summary>
    public (TokenBucketPolicy Policy, FailureMode FailureMode) Configured(TokenBucketPolicy declared)
    {
        var options = _options;
        if (_configured.TryGetValue(declared, out var known) && ReferenceEquals(known.Options, options))
        {
            return (known.Policy, known.FailureMode);
        }
        var policy = declared;
        var failureMode = options.FailureModeOf(declared.Name);
        try
        {
            policy = options.Configure(declared);
        }
        catch (ArgumentException e)
        {
            // Policies may be built per partition: say so once per bucket and configuration, not once per policy.
            var logged = Volatile.Read(ref _overridesIgnored);
            if (!ReferenceEquals(logged.Options, options))
            {
                logged = new IgnoredOverrides(options);
                Volatile.Write(ref _overridesIgnored, logged);
            }
            if (logged.Buckets.TryAdd(declared.Name, 0))
            {
                Log.OverrideIgnored(_logger, declared.Name, e);
            }
        }
        _configured.AddOrUpdate(declared, new ConfiguredPolicy(options, policy, failureMode));
        return (policy, failureMode);
    }

    public ValueTask<LimiterResult> AcquireAsync(TokenBucketPolicy policy, FailureMode failureMode, string key, CancellationToken cancellationToken)
    {
        if (!_remote)
        {
            // In memory the decision is synchronous and cannot fail: no budget, breaker or cache to pay for.
            var pending = _store.AcquireAsync(policy, key, cancellationToken);
            if (pending.IsCompletedSuccessfully)
            {
                return new ValueTask<LimiterResult>(FromStore(policy, pending.Result));
            }
        }
        return AcquireRemoteAsync(policy, failureMode, key, cancellationToken);
    }

    private LimiterResult FromStore(TokenBucketPolicy policy, RateLimitDecision decision)
    {
        _metrics.Decision(policy.Name, decision.IsAdmitted ? DecisionResults.Admitted : DecisionResults.Rejected);
        return new LimiterResult(decision, DecisionSource.Store);
    }

    private async ValueTask<LimiterResult> AcquireRemoteAsync(TokenBucketPolicy policy, FailureMode failureMode, string key, CancellationToken cancellationToken)
    {
        // A request whose client has gone takes no tokens and no probe.
        cancellationToken.ThrowIfCancellationRequested();
        var options = _options;
        if (options.DenyCache && _denyCache.TryReject(policy, key, out var cached))
        {
            _metrics.Decision(policy.Name, DecisionResults.DenyCache);
            return new LimiterResult(cached, DecisionSource.DenyCache);
        }
        var storageKey = _redis?.GetKey(policy, key);
        var node = storageKey is null ? _storeNode : NodeOf(_redis!.ServerOf(storageKey));
        if (!node.Breaker.TryEnter(out var isProbe))
        {
            return Degraded(policy, failureMode, key, options, node);
        }

        var fallback = options.LocalFallback ? _fallback : null;
        var debt = fallback?.TakeDebt(policy, key) ?? 0;
        var sentAt = _time.GetTimestamp();
        try
        {
            var reply = await DecideAsync(node, storageKey, policy, key, debt, sentAt, options, cancellationToken).ConfigureAwait(false);
            var seen = _time.GetTimestamp();
            node.Replied(seen);
            node.Breaker.OnSuccess(); // an answer, however late, says the server is there
            if (reply.ServerNow > 0)
            {
                node.Clock.Observe(Microseconds(sentAt), Microseconds(seen), reply.ServerNow);
            }
            if (reply.Status == ScriptStatus.Late)
            {
                // Redis ran the call after its deadline and took nothing: the request gets the failure mode.
                fallback?.ReturnDebt(policy, key, debt);
                _metrics.StoreDuration(_time.GetElapsedTime(sentAt, seen), _storeName, "late");
                NoteFailure(node, policy, $"ran the decision after its {options.Timeout.TotalMilliseconds} ms deadline, so it took nothing", null, seen);
                return Degraded(policy, failureMode, key, options, node);
            }
            _metrics.StoreDuration(_time.GetElapsedTime(sentAt, seen), _storeName, "success");
            var decision = reply.Decision;
            if (options.DenyCache)
            {
                if (decision.IsAdmitted)
                {
                    _denyCache.Forget(policy, key);
                }
                else
                {
                    _denyCache.Remember(policy, key, sentAt, decision);
                }
            }
            if (fallback is not null)
            {
                fallback.Observe(policy, key, decision);
                if (fallback.HasDebts)
                {
                    ChargeBackDebts(fallback, options);
                }
            }
            return FromStore(policy, decision);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; that says nothing about the store, but a probe must hand its turn on. The call
            // may or may not have charged the debt: owing it again can only make the bucket stricter.
            fallback?.ReturnDebt(policy, key, debt);
            if (isProbe)
            {
                node.Breaker.AbandonProbe();
            }
            throw;
        }
        catch (Exception e)
        {
            // Whatever the store threw, the request gets the failure mode, never a 500, and the breaker hears of it.
            fallback?.ReturnDebt(policy, key, debt);
            var now = _time.GetTimestamp();
            var timedOut = e is TimeoutException;
            _metrics.StoreDuration(_time.GetElapsedTime(sentAt, now), _storeName, timedOut ? "timeout" : "failure");
            node.Breaker.OnFailure(sentAt);
            NoteFailure(node, policy, timedOut ? $"no answer within {options.Timeout.TotalMilliseconds} ms" : $"{e.GetType().Name}: {e.Message}", e, now);
            return Degraded(policy, failureMode, key, options, node);
        }
    }

    // One decision within its budget: a call that fails on its way (a reset connection, a slot that moved) is tried
    // again while the budget lasts, with the same deadline, so Redis still takes nothing once nobody waits. A call that
    // reached Redis only after its deadline took nothing; Redis is there, and a stall on the way is what made it late
    // (this process's, while it is behind, or the network's), so it is sent again with a budget of its own: once, and
    // again while this process stays behind, up to LongestWait budgets in all.
    private async Task<ScriptReply> DecideAsync(StoreNode node, string? storageKey, TokenBucketPolicy policy, string key, int debt, long sentAt, TokenBucketOptions options, CancellationToken cancellationToken)
    {
        var budget = Ticks(options.Timeout);
        var longest = sentAt + budget * LongestWait;
        var budgetEnd = sentAt + budget;
        var lateRetries = 0;
        while (true)
        {
            var deadline = storageKey is not null && _redis!.UsesServerClock ? node.Clock.ToServer(Microseconds(budgetEnd)) : 0;
            var call = storageKey is null ? CallStoreAsync(policy, key, cancellationToken) : _redis!.DecideAsync(storageKey, policy, deadline, debt);
            ScriptReply reply;
            try
            {
                reply = await WaitAsync(call, node, budgetEnd, longest, options, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (storageKey is not null && IsTransient(e) && _time.GetTimestamp() + Ticks(s_retryPause) < budgetEnd)
            {
                await Task.Delay(s_retryPause, _time, cancellationToken).ConfigureAwait(false);
                continue;
            }
            var now = _time.GetTimestamp();
            if (reply.Status != ScriptStatus.Late || now >= longest || (lateRetries > 0 && !IsBehind))
            {
                return reply;
            }
            lateRetries++;
            node.Clock.Observe(Microseconds(sentAt), Microseconds(now), reply.ServerNow);
            budgetEnd = now + budget;
        }
    }

    // Whether this process is behind: work is queuing for the thread pool, so replies wait to be read and calls to be
    // written. A process that keeps up has next to nothing queued.
    private static bool IsBehind => ThreadPool.PendingWorkItemCount >= s_busyQueue;

    private static bool IsTransient(Exception e) => e switch
    {
        RedisConnectionException => true,
        RedisServerException server => server.Message.StartsWith("MOVED", StringComparison.Ordinal)
            || server.Message.StartsWith("ASK", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || server.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("READONLY", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal),
        _ => false,
    };

    // Waits for the reply until the budget ends, and past it while the reply is plausibly on its way: while this process
    // is too busy to have read it (work waits in the thread pool's queue, or this wait's own wake-up comes late), or while
    // the server keeps answering the calls in front of it. The wait goes on a step at a time, up to LongestWait budgets
    // in all. A server that stopped answering, seen by a process that keeps up, gets no more than the budget (a call
    // sent just before a hang, up to twice that).
    private async Task<ScriptReply> WaitAsync(Task<ScriptReply> call, StoreNode node, long budgetEnd, long longest, TokenBucketOptions options, CancellationToken cancellationToken)
    {
        var until = budgetEnd;
        while (true)
        {
            try
            {
                var now = _time.GetTimestamp();
                var left = now < until ? _time.GetElapsedTime(now, until) : TimeSpan.Zero;
                return await call.WaitAsync(left, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException) when (!call.IsCompleted)
            {
                // Behind: work is queuing, or this wake-up itself came late (threads held elsewhere). Or the server is
                // answering: it replied within a budget's time, so it is working through the calls in front of this
                // one, in order; a server that hung answers nothing, and gets no more time.
                var now = _time.GetTimestamp();
                var step = options.Timeout / 4;
                var answering = node.LastReply != long.MinValue && _time.GetElapsedTime(node.LastReply, now) < options.Timeout;
                if (now < longest && (IsBehind || answering || _time.GetElapsedTime(until, now) > step))
                {
                    until = now + Ticks(step);
                    continue;
                }
                Observe(call);
                throw;
            }
            catch (TimeoutException)
            {
                return await call.ConfigureAwait(false); // it came in while the timer's news was on its way
            }
        }
    }

    private async Task<ScriptReply> CallStoreAsync(TokenBucketPolicy policy, string key, CancellationToken cancellationToken) =>
        new(0, ScriptStatus.Decided, await _store.AcquireAsync(policy, key, cancellationToken).ConfigureAwait(false));

    // Abandoned past the budget (or by its client): observe its eventual failure so it is not reported as unobserved.
    private static void Observe(Task call)
    {
        if (!call.IsCompleted)
        {
            _ = call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private void NoteFailure(StoreNode node, TokenBucketPolicy policy, string reason, Exception? exception, long now)
    {
        if (node.Failures.ShouldWrite(now, _time, out var suppressed))
        {
            Log.StoreFailed(_logger, node.Name, policy.Name, reason, suppressed, FailureLog.Period, exception);
        }
    }

    private LimiterResult Degraded(TokenBucketPolicy policy, FailureMode failureMode, string key, TokenBucketOptions options, StoreNode node)
    {
        if (options.LocalFallback && _fallback is { } fallback && fallback.Decide(policy, key, fallback.Instances(options)) is { } decision)
        {
            _metrics.Decision(policy.Name, decision.IsAdmitted ? DecisionResults.FallbackAdmitted : DecisionResults.FallbackRejected);
            return new LimiterResult(decision, DecisionSource.LocalFallback);
        }
        if (failureMode == FailureMode.Open)
        {
            _metrics.Decision(policy.Name, DecisionResults.FailedOpen);
            return new LimiterResult(default, DecisionSource.FailedOpen);
        }
        _metrics.Decision(policy.Name, DecisionResults.FailedClosed);
        var retry = node.Breaker.RemainingBreak;
        return new LimiterResult(new RateLimitDecision(false, 0, retry > TimeSpan.Zero ? retry : _breakDuration, TimeSpan.Zero), DecisionSource.FailedClosed);
    }

    // The tokens admitted locally while a server was away are charged to Redis once it answers again: with the next
    // request for the bucket (see AcquireRemoteAsync), and here for the rest, all at once, so that no bucket gets a
    // fresh burst at the switch back.
    private void ChargeBackDebts(LocalFallback fallback, TokenBucketOptions options)
    {
        var now = _time.GetTimestamp();
        var last = Volatile.Read(ref _lastDebtFlush);
        if (_redis is not { } redis || (last != long.MinValue && _time.GetElapsedTime(last, now) < s_debtFlushPause)
            || Interlocked.CompareExchange(ref _flushingDebts, 1, 0) != 0)
        {
            return;
        }
        Volatile.Write(ref _lastDebtFlush, now);
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.WhenAll(fallback.TakeAllDebts().Select(owed => ChargeBackAsync(redis, fallback, owed, options))).ConfigureAwait(false);
            }
            finally
            {
                Volatile.Write(ref _flushingDebts, 0);
            }
        });
    }

    private async Task ChargeBackAsync(RedisTokenBucketStore redis, LocalFallback fallback, LocalFallback.Owed owed, TokenBucketOptions options)
    {
        var policy = owed.Policy;
        var storageKey = redis.GetKey(policy, owed.Key);
        if (NodeOf(redis.ServerOf(storageKey)).Breaker.State != CircuitState.Closed)
        {
            fallback.ReturnDebt(policy, owed.Key, owed.Tokens); // that server is still away
            return;
        }
        try
        {
            await redis.DecideAsync(storageKey, policy, deadline: 0, owed.Tokens, chargeOnly: true).WaitAsync(options.Timeout, _time).ConfigureAwait(false);
        }
        catch (Exception)
        {
            fallback.ReturnDebt(policy, owed.Key, owed.Tokens);
        }
    }

    private void StartFallback(TokenBucketOptions options)
    {
        if (!options.LocalFallback)
        {
            return;
        }
        lock (_fallbackGate)
        {
            _fallback ??= new LocalFallback(_time);
            // The local share of each limit needs the number of instances: learned from Redis unless configured.
            if (_heartbeat is null && _redis is not null && options.InstanceCount is null)
            {
                _heartbeat = new InstanceHeartbeat(_redis, _fallback, _time, _logger);
            }
        }
    }

    private StoreNode NodeOf(EndPoint? endpoint) =>
        endpoint is null ? _storeNode : _nodes.TryGetValue(endpoint, out var node) ? node : _nodes.GetOrAdd(endpoint, static (e, limiter) => limiter.CreateNode(RedisTokenBucketStore.Format(e)), this);

    private StoreNode CreateNode(string name)
    {
        var breaker = new CircuitBreaker(_breakerThreshold, _breakDuration, _time);
        var node = new StoreNode(name, breaker);
        breaker.Changed += state =>
        {
            if (state == CircuitState.Open)
            {
                var options = _options;
                Log.CircuitOpened(_logger, name, _breakDuration, options.LocalFallback ? "the local fallback" : "failure mode " + options.FailureMode);
            }
            else
            {
                Log.CircuitClosed(_logger, name, node.Failures.TakeSuppressed());
            }
        };
        return node;
    }

    private IEnumerable<Measurement<int>> BreakerStates()
    {
        foreach (var (server, state) in Circuits)
        {
            yield return new Measurement<int>((int)state, new KeyValuePair<string, object?>("rateguard.server", server));
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private long Microseconds(long timestamp) => (long)(timestamp * (1_000_000d / _time.TimestampFrequency));

    private sealed record ConfiguredPolicy(TokenBucketOptions Options, TokenBucketPolicy Policy, FailureMode FailureMode);

    // The buckets whose override was reported as ignored under one configuration.
    private sealed class IgnoredOverrides(TokenBucketOptions? options)
    {
        public TokenBucketOptions? Options { get; } = options;

        public ConcurrentDictionary<string, byte> Buckets { get; } = new(StringComparer.Ordinal);
    }

    public void Dispose()
    {
        _reloadSubscription?.Dispose();
        _heartbeat?.Dispose();
        _fallback?.Dispose();
    }
}
