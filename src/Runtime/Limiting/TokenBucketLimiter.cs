using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RateGuard.Diagnostics;
using RateGuard.Stores;
using StackExchange.Redis;

namespace RateGuard.Limiting;

/// <summary>
/// Turns a store into decisions a request can rely on. For a remote store it adds what production needs: a deny cache
/// in front, a time budget per call, a circuit breaker, the failure mode (or a local fallback) when Redis cannot
/// decide, and metrics for all of it. An in-memory store is called directly.
/// </summary>
internal sealed class TokenBucketLimiter : IDisposable
{
    private readonly ITokenBucketStore _store;
    private readonly bool _remote;
    private readonly string _storeName;
    private readonly TokenBucketMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CircuitBreaker _breaker;
    private readonly DenyCache _denyCache;
    // Weak keys: policies built per partition or per permit count (the RateLimiter adapter) come and go, and their
    // scaled twins must go with them.
    private readonly ConditionalWeakTable<TokenBucketPolicy, ScaledPolicy> _scaled = new();
    private readonly ConditionalWeakTable<TokenBucketPolicy, ConfiguredPolicy> _configured = new();
    private IgnoredOverrides _overridesIgnored = new(null);
    private readonly IDisposable? _reloadSubscription;
    private InMemoryTokenBucketStore? _fallback;
    private TokenBucketOptions _options;

    public TokenBucketLimiter(ITokenBucketStore store, IOptionsMonitor<TokenBucketOptions> options, TokenBucketMetrics metrics, ILoggerFactory loggers, TimeProvider time)
    {
        _store = store;
        _remote = store is not InMemoryTokenBucketStore;
        _storeName = store is RedisTokenBucketStore ? "redis" : _remote ? "custom" : "memory";
        _metrics = metrics;
        _logger = loggers.CreateLogger("RateGuard");
        _time = time;
        _options = options.CurrentValue;
        // The breaker's settings and the deny cache's size are read at startup; limits and failure modes reload.
        var breakDuration = _options.BreakDuration;
        _breaker = new CircuitBreaker(_options.BreakerFailureThreshold, breakDuration, time);
        _breaker.Changed += state =>
        {
            if (state == CircuitState.Open)
            {
                Log.CircuitOpened(_logger, breakDuration, _options.LocalFallback ? "the local fallback" : "failure mode " + _options.FailureMode);
            }
            else
            {
                Log.CircuitClosed(_logger);
            }
        };
        _denyCache = new DenyCache(_options.DenyCache ? _options.DenyCacheSize : 0, time);
        metrics.ObserveBreaker(() => (int)_breaker.State);
        // A reload may change limits: forget rejections decided under the old ones.
        _reloadSubscription = options.OnChange(o =>
        {
            _options = o;
            _denyCache.Clear();
        });
    }

    public CircuitState CircuitState => _breaker.State;

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
        // A request whose client has gone takes no tokens and no probe: the store is not handed the token below.
        cancellationToken.ThrowIfCancellationRequested();
        var options = _options;
        if (options.DenyCache && _denyCache.TryReject(policy, key, out var cached))
        {
            _metrics.Decision(policy.Name, DecisionResults.DenyCache);
            return new LimiterResult(cached, DecisionSource.DenyCache);
        }
        if (!_breaker.TryEnter(out var isProbe))
        {
            return Degraded(policy, failureMode, key, options);
        }

        var sentAt = _time.GetTimestamp();
        Task<RateLimitDecision>? call = null;
        try
        {
            // The wait below observes the request's token, so Redis's own store is not handed it too: that would
            // wrap every call in a second cancellable promise for nothing. A store of the app's own still gets it.
            call = _store.AcquireAsync(policy, key, _store is RedisTokenBucketStore ? CancellationToken.None : cancellationToken).AsTask();
            var decision = await call.WaitAsync(options.Timeout, _time, cancellationToken).ConfigureAwait(false);
            _metrics.StoreDuration(_time.GetElapsedTime(sentAt), _storeName, "success");
            _breaker.OnSuccess();
            if (!decision.IsAdmitted && options.DenyCache)
            {
                _denyCache.Remember(policy, key, sentAt, decision);
            }
            return FromStore(policy, decision);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; that says nothing about the store, but a probe must hand its turn on.
            Observe(call);
            if (isProbe)
            {
                _breaker.AbandonProbe();
            }
            throw;
        }
        catch (Exception e)
        {
            // Whatever the store threw, the request gets the failure mode, never a 500, and the breaker hears of it.
            Observe(call);
            var timedOut = e is TimeoutException;
            _metrics.StoreDuration(_time.GetElapsedTime(sentAt), _storeName, timedOut ? "timeout" : "failure");
            Log.StoreFailed(_logger, policy.Name, timedOut ? $"no answer within {options.Timeout.TotalMilliseconds} ms" : e.GetType().Name, e);
            _breaker.OnFailure();
            return Degraded(policy, failureMode, key, options);
        }
    }

    // Abandoned past the budget (or by its client): observe its eventual failure so it is not reported as unobserved.
    private static void Observe(Task<RateLimitDecision>? call)
    {
        if (call is { IsCompleted: false })
        {
            _ = call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private LimiterResult Degraded(TokenBucketPolicy policy, FailureMode failureMode, string key, TokenBucketOptions options)
    {
        if (options.LocalFallback && Scaled(policy, options.InstanceCount) is { } scaled)
        {
            var decision = Fallback().Acquire(scaled, key);
            _metrics.Decision(policy.Name, decision.IsAdmitted ? DecisionResults.FallbackAdmitted : DecisionResults.FallbackRejected);
            return new LimiterResult(decision, DecisionSource.LocalFallback);
        }
        if (failureMode == FailureMode.Open)
        {
            _metrics.Decision(policy.Name, DecisionResults.FailedOpen);
            return new LimiterResult(default, DecisionSource.FailedOpen);
        }
        _metrics.Decision(policy.Name, DecisionResults.FailedClosed);
        var retry = _breaker.RemainingBreak;
        return new LimiterResult(new RateLimitDecision(false, 0, retry > TimeSpan.Zero ? retry : options.BreakDuration, TimeSpan.Zero), DecisionSource.FailedClosed);
    }

    private InMemoryTokenBucketStore Fallback()
    {
        if (Volatile.Read(ref _fallback) is { } existing)
        {
            return existing;
        }
        var created = new InMemoryTokenBucketStore(_time);
        var winner = Interlocked.CompareExchange(ref _fallback, created, null);
        if (winner is not null)
        {
            created.Dispose(); // another request made it first
            return winner;
        }
        return created;
    }

    // Each of N instances enforces 1/N of the limit while they cannot share it. The cost stays what it is: a capacity
    // is never scaled below one request's cost, and a request that could never be admitted still cannot be. A
    // policy that cannot be scaled (a window past the limit) gets the failure mode instead.
    private TokenBucketPolicy? Scaled(TokenBucketPolicy policy, int instances)
    {
        if (instances <= 1)
        {
            return policy;
        }
        // InstanceCount reloads: a twin scaled for another count is replaced.
        if (_scaled.TryGetValue(policy, out var known) && known.Instances == instances)
        {
            return known.Policy;
        }
        var scaled = new ScaledPolicy(instances, Scale(policy, instances));
        _scaled.AddOrUpdate(policy, scaled);
        return scaled.Policy;
    }

    private static TokenBucketPolicy? Scale(TokenBucketPolicy policy, int instances)
    {
        try
        {
            var capacity = policy.Cost > policy.Capacity ? Math.Max(1, policy.Capacity / instances) : Math.Max(policy.Cost, policy.Capacity / instances);
            return new TokenBucketPolicy(policy.Name, capacity, policy.Rate / instances, policy.Cost);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private sealed record ScaledPolicy(int Instances, TokenBucketPolicy? Policy);

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
        _fallback?.Dispose();
    }
}
