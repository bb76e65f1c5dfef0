using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RateGuard.Configuration;
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
/// A request draws from all of its endpoint's buckets at once, all or nothing: it is admitted only if every bucket
/// holds its cost, and then every bucket is charged; if any rejects, none is. In memory and on standalone Redis that is
/// one atomic decision (one script call). On a cluster, buckets whose keys share a slot are decided in one call; when
/// a request's buckets span slots, each slot's group is decided on its own, and the groups that admitted give their
/// cost back when another rejected.
/// </para>
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
    // What the store says it is, read once: it does not change, and a decision should not ask again.
    private readonly bool _local;
    private readonly bool _passCancellation;
    private readonly string _storeName;
    private readonly TokenBucketMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly int _breakerThreshold;
    private readonly TimeSpan _breakDuration;
    private readonly StoreNode _storeNode;
    private readonly ConcurrentDictionary<EndPoint, StoreNode> _nodes = new();
    private readonly DenyCache _denyCache;
    private readonly ConditionalWeakTable<TokenBucketPolicy, ConfiguredUnder> _configured = new();
    private IgnoredOverrides _overridesIgnored = new(null);
    private readonly IDisposable? _reloadSubscription;
    private readonly object _fallbackGate = new();
    private LocalFallback? _fallback;
    private InstanceHeartbeat? _heartbeat;
    private int _flushingDebts;
    private long _lastDebtFlush = long.MinValue;
    private TokenBucketOptions _options;
    private readonly KnownBuckets? _known;
    private readonly ActivityTracker _activity;
    private readonly IDisposable? _resets;
    private readonly ReplyWatch _watch;

    public TokenBucketLimiter(ITokenBucketStore store, IOptionsMonitor<TokenBucketOptions> options, TokenBucketMetrics metrics, ILoggerFactory loggers, TimeProvider time, KnownBuckets? known = null)
    {
        _known = known;
        _store = store;
        // The one place the limiter knows a store by its class. Everything else it asks the store itself (IsLocal,
        // Name, PeekAsync...), but the Redis fast path is Redis: script calls batched per slot (Send, PendingCall),
        // keys placed on their servers, deadlines on the server's clock, give-backs, debts charged back, resets heard
        // over pub/sub and the instance heartbeat. No store abstraction could carry that without exposing Redis.
        _redis = store as RedisTokenBucketStore;
        _local = store.IsLocal;
        _passCancellation = store.TakesRequestCancellation;
        _storeName = store.Name;
        _metrics = metrics;
        _logger = loggers.CreateLogger("RateGuard");
        _time = time;
        _options = options.CurrentValue;
        // The breaker's settings and the deny cache's size are read at startup; limits and failure modes reload.
        _breakerThreshold = _options.BreakerFailureThreshold;
        _breakDuration = _options.BreakDuration;
        _storeNode = CreateNode(_storeName);
        _denyCache = new DenyCache(_options.DenyCache ? _options.DenyCacheSize : 0, time);
        _activity = new ActivityTracker(time);
        _watch = new ReplyWatch(time);
        metrics.ObserveCircuits(BreakerStates);
        if (_redis is not null)
        {
            _redis.BatchStall = _options.Timeout / 4;
            _redis.BatchClock = time;
            // An operator's reset on any instance: what this one remembers of that bucket no longer holds.
            _resets = _redis.OnReset(ForgetReset, e => Log.ResetSubscriptionFailed(_logger, e));
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
            _redis?.BatchStall = o.Timeout / 4;
            _denyCache.Clear();
            StartFallback(o);
        });
    }

    /// <summary>The options in force: those of startup, then of each reload that passed validation.</summary>
    public TokenBucketOptions Options => _options;

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

    /// <summary>Whether decisions complete synchronously (a local store), so a synchronous caller may ask.</summary>
    public bool DecidesSynchronously => _local;

    public ITokenBucketStore Store => _store;

    /// <summary>
    /// Gets the store ready before the first request: a Redis store's first connection is waited for a moment and its
    /// scripts checked, so that the log says at startup whether limits hold. Other stores have nothing to wait for.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = _options;
        return _redis?.StartAsync(heartbeat: options.LocalFallback && options.InstanceCount is null, _logger, cancellationToken) ?? Task.CompletedTask;
    }

    /// <summary>What the bucket of <paramref name="declared"/> enforces under the options in force, for the adapter and operations.</summary>
    public ConfiguredPolicy Configured(TokenBucketPolicy declared)
    {
        var options = _options;
        if (_configured.TryGetValue(declared, out var known) && ReferenceEquals(known.Options, options))
        {
            return known.Configured;
        }
        // The adapter's buckets are created on request: from now on configuration is checked against this one too.
        _known?.Add(declared);
        var configured = ConfiguredPolicy.Of(options, declared);
        if (configured.IgnoredOverride is { } e)
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
        _configured.AddOrUpdate(declared, new ConfiguredUnder(options, configured));
        return configured;
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
        if (_local)
        {
            // In this process the decision is synchronous and cannot fail: no budget, breaker or cache to pay for.
            if (cancellationToken.IsCancellationRequested)
            {
                CountCanceled(request);
                cancellationToken.ThrowIfCancellationRequested();
            }
            var admitted = _store.AcquireAll(request.Policies, request.Keys, request.Decisions);
            var results = request.Results;
            for (var i = 0; i < results.Length; i++)
            {
                results[i] = new LimiterResult(request.Decisions[i], DecisionSource.Store);
            }
            Count(request, admitted);
            return new ValueTask<bool>(admitted);
        }
        // A request whose client has gone takes no tokens and no probe.
        if (cancellationToken.IsCancellationRequested)
        {
            CountCanceled(request);
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }
        var options = _options;
        if (options.DenyCache && RejectFromCache(request))
        {
            Count(request, admitted: false);
            return new ValueTask<bool>(false);
        }
        var groups = Groups(request);
        return _redis is not null && groups.Length == 1
            ? DecideGroupAsync(groups[0], request, options, cancellationToken, whole: groups)
            : DecideRemoteAsync(request, groups, options, cancellationToken);
    }

    /// <summary>Counts a request refused because it had no value for the bucket's key.</summary>
    public void CountMissingKey(TokenBucketPolicy policy) => _metrics.Request(policy.Name, RequestResults.MissingKey);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> DecideRemoteAsync(LimitRequest request, StoreGroup[] groups, TokenBucketOptions options, CancellationToken cancellationToken)
    {
        try
        {
            if (_redis is null)
            {
                // A store of the app's own decides one bucket at a time, and cannot give tokens back: the buckets before
                // one that rejects keep what they took.
                foreach (var group in groups)
                {
                    await DecideGroupAsync(group, request, options, cancellationToken).ConfigureAwait(false);
                    if (group.Outcome == GroupOutcome.Rejected)
                    {
                        break;
                    }
                }
            }
            else
            {
                var calls = new Task[groups.Length];
                for (var g = 0; g < groups.Length; g++)
                {
                    calls[g] = DecideGroupAsync(groups[g], request, options, cancellationToken).AsTask();
                }
                await Task.WhenAll(calls).ConfigureAwait(false);
            }
            return Finish(request, groups, options);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            CountCanceled(request);
            throw;
        }
    }

    // Rejects in-process when any bucket remembers rejecting this client at this cost; the others are not asked.
    private bool RejectFromCache(LimitRequest request)
    {
        var results = request.Results;
        var rejected = false;
        for (var i = 0; i < results.Length; i++)
        {
            if (_denyCache.TryReject(request.Policy(i), request.Key(i), out var cached))
            {
                results[i] = new LimiterResult(cached, DecisionSource.DenyCache);
                rejected = true;
            }
            else
            {
                results[i] = new LimiterResult(default, DecisionSource.NotAsked);
            }
        }
        return rejected;
    }

    // The calls a request needs: one per cluster slot its buckets' keys hash to (one without a cluster); one per bucket
    // for a store of the app's own.
    private StoreGroup[] Groups(LimitRequest request)
    {
        var count = request.Count;
        if (_redis is not { } redis)
        {
            var each = new StoreGroup[count];
            for (var i = 0; i < count; i++)
            {
                each[i] = new StoreGroup(_storeNode, [i], null);
            }
            return each;
        }
        if (count == 1)
        {
            // The common case: one bucket, one call, no grouping to do.
            var key = redis.GetKey(request.Policy(0), request.Key(0));
            return request.OneGroup(NodeOf(redis.ServerOf(key)), key);
        }
        var keys = new string[count];
        Span<int> slots = count <= 16 ? stackalloc int[count] : new int[count];
        var distinct = 0;
        for (var i = 0; i < count; i++)
        {
            keys[i] = redis.GetKey(request.Policy(i), request.Key(i));
            slots[i] = count == 1 ? -1 : redis.SlotOf(keys[i]);
            if (slots[..i].IndexOf(slots[i]) < 0)
            {
                distinct++;
            }
        }
        var groups = new StoreGroup[distinct];
        var made = 0;
        for (var i = 0; i < count; i++)
        {
            if (slots[..i].IndexOf(slots[i]) >= 0)
            {
                continue;
            }
            var members = new List<int>(count);
            for (var j = i; j < count; j++)
            {
                if (slots[j] == slots[i])
                {
                    members.Add(j);
                }
            }
            var groupKeys = new RedisKey[members.Count];
            for (var m = 0; m < members.Count; m++)
            {
                groupKeys[m] = keys[members[m]];
            }
            groups[made++] = new StoreGroup(NodeOf(redis.ServerOf(keys[i])), [.. members], groupKeys);
        }
        return groups;
    }

    // One call: the group's buckets decided together on their server, within the budget, or the group marked failed.
    // A group that is the whole request (`whole`, the common case) settles and counts the request here too, and returns
    // whether it is admitted, so that a decision needs no second state machine; otherwise it returns false.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> DecideGroupAsync(StoreGroup group, LimitRequest request, TokenBucketOptions options, CancellationToken cancellationToken, StoreGroup[]? whole = null)
    {
        var node = group.Node;
        if (!node.Breaker.TryEnter(out var isProbe))
        {
            group.Outcome = GroupOutcome.Failed;
            return whole is not null && Finish(request, whole, options);
        }
        var fallback = options.LocalFallback ? _fallback : null;
        var members = group.Members;
        var charges = members.Length == request.Count ? request.ChargeBuffer : new BucketCharge[members.Length];
        for (var m = 0; m < members.Length; m++)
        {
            var policy = request.Policy(members[m]);
            charges[m] = new BucketCharge(policy, policy.Cost, fallback?.TakeDebt(policy, request.Key(members[m])) ?? 0);
        }
        // A group that is the whole request (no cluster, or one slot) reads its answer straight into the request's.
        var decisions = members.Length == request.Count ? request.DecisionBuffer : new RateLimitDecision[members.Length];
        var sentAt = _time.GetTimestamp();
        try
        {
            // One call within its budget: a call that fails on its way (a reset connection, a slot that moved) is tried
            // again while the budget lasts, with the same deadline, so Redis still takes nothing once nobody waits. A call
            // that reached Redis only after its deadline took nothing; Redis is there, and a stall on the way is what made
            // it late (this process's, while it is behind, or the network's), so it is sent again with a budget of its
            // own: once, and again while this process stays behind (a batched call: while the longest wait lasts),
            // up to LongestWait budgets in all. All of it in this one state machine: a decision allocates as few as it
            // can.
            var budget = Ticks(options.Timeout);
            var longest = sentAt + budget * LongestWait;
            var budgetEnd = sentAt + budget;
            var lateRetries = 0;
            ScriptReply reply;
            PendingCall? call = null;
            while (true)
            {
                if (group.Keys is not { } keys)
                {
                    // A store of the app's own: one bucket, no deadline, the request's token passed on unless the store
                    // would rather not be stopped halfway (then only the wait for it is).
                    var i = group.Members[0];
                    var token = _passCancellation ? cancellationToken : CancellationToken.None;
                    var custom = _store.AcquireAsync(request.Policy(i), request.Key(i), token).AsTask();
                    decisions[0] = await WaitAsync(custom, node, budgetEnd, longest, options, cancellationToken).ConfigureAwait(false);
                    reply = new ScriptReply(0, ScriptStatus.Decided);
                    break;
                }
                var deadline = _redis!.UsesServerClock ? node.Clock.ToServer(Microseconds(budgetEnd)) : 0;
                try
                {
                    // Waited on in place, woken by the shared watch: no task or timer of its own.
                    call = _redis.Send(keys, charges.AsSpan(0, keys.Length), deadline, options.Batching);
                    var until = budgetEnd;
                    while (!await call.WaitAsync(_watch, until, cancellationToken).ConfigureAwait(false) && !call.IsAnswered)
                    {
                        // Woken without the answer (and it did not come in meanwhile): wait on, or give up.
                        if (cancellationToken.IsCancellationRequested || !KeepWaiting(node, ref until, longest, options, call.Lane?.LastAnswer ?? long.MinValue))
                        {
                            call.Abandon();
                            cancellationToken.ThrowIfCancellationRequested();
                            throw new TimeoutException($"No answer within {options.Timeout.TotalMilliseconds} ms.");
                        }
                    }
                    reply = TokenBucketScript.Read(call.Result, decisions.AsSpan(0, keys.Length));
                }
                catch (Exception e) when (IsTransient(e) && _time.GetTimestamp() + Ticks(s_retryPause) < budgetEnd)
                {
                    await Task.Delay(s_retryPause, _time, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var now = _time.GetTimestamp();
                // A batched call waits on this process twice over, for the replies in front of it to be read and for its
                // own: when it comes back late, that is this process's doing however idle its thread pool looks, and it
                // goes again while the longest wait lasts (a late call took nothing, and the late reply shows Redis there).
                if (reply.Status != ScriptStatus.Late || now >= longest || (lateRetries > 0 && !IsBehind && call?.Lane is null))
                {
                    break;
                }
                lateRetries++;
                node.Clock.Observe(Microseconds(sentAt), Microseconds(now), reply.ServerNow);
                budgetEnd = now + budget;
            }
            var seen = _time.GetTimestamp();
            node.Replied(seen);
            node.Breaker.OnSuccess(); // an answer, however late, says the server is there
            if (reply.ServerNow > 0)
            {
                node.Clock.Observe(Microseconds(sentAt), Microseconds(seen), reply.ServerNow);
            }
            if (reply.Status == ScriptStatus.Late)
            {
                // Redis ran the call after its deadline and took nothing: these buckets get the failure mode.
                ReturnDebts(fallback, request, members, charges);
                _metrics.StoreDuration(_time.GetElapsedTime(sentAt, seen), _storeName, "late");
                NoteFailure(node, request.Policy(members[0]), $"ran the decision after its {options.Timeout.TotalMilliseconds} ms deadline, so it took nothing", null, seen);
                group.Outcome = GroupOutcome.Failed;
            }
            else
            {
                _metrics.StoreDuration(_time.GetElapsedTime(sentAt, seen), _storeName, "success");
                Decided(group, request, decisions, sentAt, options, fallback);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; that says nothing about the store, but a probe must hand its turn on. The call
            // may or may not have charged the debts: owing them again can only make the buckets stricter.
            ReturnDebts(fallback, request, members, charges);
            if (isProbe)
            {
                node.Breaker.AbandonProbe();
            }
            if (whole is not null)
            {
                CountCanceled(request);
            }
            throw;
        }
        catch (Exception e)
        {
            // Whatever the store threw, the request gets the failure mode, never a 500, and the breaker hears of it.
            ReturnDebts(fallback, request, members, charges);
            var now = _time.GetTimestamp();
            var timedOut = e is TimeoutException;
            _metrics.StoreDuration(_time.GetElapsedTime(sentAt, now), _storeName, timedOut ? "timeout" : "failure");
            node.Breaker.OnFailure(sentAt);
            NoteFailure(node, request.Policy(members[0]), timedOut ? $"no answer within {options.Timeout.TotalMilliseconds} ms" : $"{e.GetType().Name}: {e.Message}", e, now);
            group.Outcome = GroupOutcome.Failed;
        }
        return whole is not null && Finish(request, whole, options);
    }

    // A group's answer from the store: each bucket's result, what the deny cache and the local fallback learn from it.
    private void Decided(StoreGroup group, LimitRequest request, RateLimitDecision[] decisions, long sentAt, TokenBucketOptions options, LocalFallback? fallback)
    {
        var members = group.Members;
        var results = request.Results;
        for (var m = 0; m < members.Length; m++)
        {
            var i = members[m];
            var decision = decisions[m];
            results[i] = new LimiterResult(decision, DecisionSource.Store);
            if (options.DenyCache)
            {
                if (decision.IsAdmitted)
                {
                    _denyCache.Forget(request.Policy(i), request.Key(i));
                }
                else if (decision.RetryAfter > TimeSpan.Zero)
                {
                    _denyCache.Remember(request.Policy(i), request.Key(i), sentAt, decision);
                }
            }
            fallback?.Observe(request.Policy(i), request.Key(i), decision);
        }
        if (fallback is { HasDebts: true })
        {
            ChargeBackDebts(fallback, options);
        }
        group.Outcome = decisions[0].IsAdmitted ? GroupOutcome.Admitted : GroupOutcome.Rejected;
    }

    // The request decided from its groups' outcomes, and counted.
    private bool Finish(LimitRequest request, StoreGroup[] groups, TokenBucketOptions options)
    {
        var admitted = Settle(request, groups, options);
        Count(request, admitted);
        return admitted;
    }

    private static void ReturnDebts(LocalFallback? fallback, LimitRequest request, int[] members, BucketCharge[] charges)
    {
        if (fallback is null)
        {
            return;
        }
        for (var m = 0; m < members.Length; m++)
        {
            fallback.ReturnDebt(charges[m].Policy, request.Key(members[m]), charges[m].Debt);
        }
    }

    // The request's outcome from its groups'. A group Redis rejected rejects the request; then the groups it admitted
    // give their cost back, and the buckets of groups that could not decide were never asked. Without a rejection, the
    // groups that could not decide get the local fallback (all of their buckets at once) or each bucket's failure mode.
    private bool Settle(LimitRequest request, StoreGroup[] groups, TokenBucketOptions options)
    {
        var results = request.Results;
        var rejected = false;
        var failed = 0;
        foreach (var group in groups)
        {
            rejected |= group.Outcome == GroupOutcome.Rejected;
            failed += group.Outcome == GroupOutcome.Failed ? group.Members.Length : 0;
            if (group.Outcome == GroupOutcome.Pending)
            {
                foreach (var i in group.Members)
                {
                    results[i] = new LimiterResult(default, DecisionSource.NotAsked); // a bucket before it rejected
                }
            }
        }
        if (failed > 0)
        {
            if (rejected)
            {
                MarkFailed(request, groups, DecisionSource.NotAsked);
            }
            else if (options.LocalFallback && _fallback is { } fallback && DecideLocally(request, groups, failed, fallback, options) is { } locally)
            {
                rejected = !locally;
            }
            else
            {
                foreach (var group in groups)
                {
                    if (group.Outcome != GroupOutcome.Failed)
                    {
                        continue;
                    }
                    foreach (var i in group.Members)
                    {
                        results[i] = FailureModeResult(request.FailureMode(i), group.Node);
                        rejected |= results[i].Source == DecisionSource.FailedClosed;
                    }
                }
            }
        }
        if (rejected && groups.Length > 1 && _redis is { } redis)
        {
            foreach (var group in groups)
            {
                if (group.Outcome == GroupOutcome.Admitted)
                {
                    GiveBack(redis, group, request);
                }
            }
        }
        return !rejected;
    }

    private static void MarkFailed(LimitRequest request, StoreGroup[] groups, DecisionSource source)
    {
        foreach (var group in groups)
        {
            if (group.Outcome == GroupOutcome.Failed)
            {
                foreach (var i in group.Members)
                {
                    request.Results[i] = new LimiterResult(default, source);
                }
            }
        }
    }

    // The buckets whose server could not decide, decided together in this process; null when a policy cannot be scaled.
    private bool? DecideLocally(LimitRequest request, StoreGroup[] groups, int failed, LocalFallback fallback, TokenBucketOptions options)
    {
        var policies = new TokenBucketPolicy[failed];
        var keys = new string[failed];
        var indices = new int[failed];
        var n = 0;
        foreach (var group in groups)
        {
            if (group.Outcome == GroupOutcome.Failed)
            {
                foreach (var i in group.Members)
                {
                    policies[n] = request.Policy(i);
                    keys[n] = request.Key(i);
                    indices[n++] = i;
                }
            }
        }
        var decisions = new RateLimitDecision[failed];
        if (fallback.DecideAll(policies, keys, fallback.Instances(options), decisions) is not { } admitted)
        {
            return null;
        }
        for (var m = 0; m < failed; m++)
        {
            request.Results[indices[m]] = new LimiterResult(decisions[m], DecisionSource.LocalFallback);
        }
        return admitted;
    }

    private LimiterResult FailureModeResult(FailureMode failureMode, StoreNode node)
    {
        if (failureMode == FailureMode.Open)
        {
            return new LimiterResult(default, DecisionSource.FailedOpen);
        }
        var retry = node.Breaker.RemainingBreak;
        return new LimiterResult(new RateLimitDecision(false, 0, retry > TimeSpan.Zero ? retry : _breakDuration, TimeSpan.Zero), DecisionSource.FailedClosed);
    }

    // A group admitted by Redis while another rejected the request: its buckets get their cost back (never above
    // full), so the request takes nothing. Nobody waits for it; a give-back that fails leaves the buckets stricter.
    private void GiveBack(RedisTokenBucketStore redis, StoreGroup group, LimitRequest request)
    {
        var charges = new BucketCharge[group.Members.Length];
        for (var m = 0; m < charges.Length; m++)
        {
            var i = group.Members[m];
            var policy = request.Policy(i);
            charges[m] = new BucketCharge(policy, 0, -policy.Cost);
            var admitted = request.Results[i].Decision;
            request.Results[i] = new LimiterResult(admitted with { IsAdmitted = false, Remaining = Math.Min(policy.Capacity, admitted.Remaining + policy.Cost) }, DecisionSource.Store);
        }
        _ = redis.DecideAsync(group.Keys!, charges, deadline: 0).ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    // Counts each bucket's part: an admitted request on every bucket; a rejected one only on the buckets that rejected
    // it. A bucket that was not charged is not counted as admitting.
    private void Count(LimitRequest request, bool admitted)
    {
        var results = request.Results;
        for (var i = 0; i < results.Length; i++)
        {
            var result = results[i];
            var name = request.Policy(i).Name;
            switch (result.Source)
            {
                case DecisionSource.Store when admitted:
                    Admitted(name, RequestResults.Acquired);
                    break;
                case DecisionSource.Store when result.Rejects:
                    Rejected(name, request.Key(i), RequestResults.EndpointLimiter);
                    break;
                case DecisionSource.DenyCache:
                    Rejected(name, request.Key(i), RequestResults.DenyCache);
                    break;
                case DecisionSource.LocalFallback when admitted:
                    Admitted(name, RequestResults.FallbackAcquired);
                    break;
                case DecisionSource.LocalFallback when result.Rejects:
                    Rejected(name, request.Key(i), RequestResults.FallbackRejected);
                    break;
                case DecisionSource.FailedOpen when admitted:
                    Admitted(name, RequestResults.FailedOpen);
                    break;
                case DecisionSource.FailedClosed:
                    Rejected(name, request.Key(i), RequestResults.FailedClosed);
                    break;
            }
        }
    }

    private void Admitted(string bucket, string result)
    {
        _metrics.Request(bucket, result);
        _activity.Admitted(bucket);
    }

    private void Rejected(string bucket, string key, string result)
    {
        _metrics.Request(bucket, result);
        _activity.Rejected(bucket, key);
    }

    // A request whose client went away before it was decided takes nothing, and is counted on each of its buckets.
    private void CountCanceled(LimitRequest request)
    {
        for (var i = 0; i < request.Count; i++)
        {
            _metrics.Request(request.Policy(i).Name, RequestResults.RequestCanceled);
        }
    }

    /// <summary>How many rejections the deny cache holds.</summary>
    internal int RemembersRejections => _denyCache.Count;

    /// <summary>What this instance decided per bucket lately, and whom it rejected.</summary>
    public ActivityTracker Activity => _activity;

    /// <summary>
    /// The bucket of <paramref name="key"/> in <paramref name="policy"/> as the store holds it now, taking nothing:
    /// its whole tokens (<see cref="RateLimitDecision.Remaining"/>) and time to full (<see cref="RateLimitDecision.ResetAfter"/>).
    /// </summary>
    /// <exception cref="NotSupportedException">A store that has no way to be read without a charge.</exception>
    public async ValueTask<RateLimitDecision> PeekAsync(TokenBucketPolicy policy, string key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var peek = _store.PeekAsync(policy, key, cancellationToken);
        return peek.IsCompletedSuccessfully ? peek.Result : await peek.AsTask().WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes the bucket named <paramref name="bucket"/> of <paramref name="key"/> full again: removed from the store,
    /// then forgotten here and, by a store shared between instances (Redis, through pub/sub), by every other instance
    /// on it.
    /// </summary>
    /// <exception cref="NotSupportedException">A store that has no way to remove a bucket.</exception>
    public async ValueTask ResetAsync(string bucket, string key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reset = _store.ResetAsync(bucket, key, cancellationToken);
        if (!reset.IsCompletedSuccessfully)
        {
            await reset.AsTask().WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        ForgetReset(bucket, BucketKey.Normalize(key));
    }

    // Whatever this instance remembers of a bucket that was just reset stands for a state the store no longer has.
    private void ForgetReset(string bucket, string storedValue)
    {
        _denyCache.Forget(bucket, storedValue);
        _fallback?.Forget(bucket, storedValue);
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

    // Waits for a store of the app's own until the budget ends, and past it as KeepWaiting allows.
    private async Task<T> WaitAsync<T>(Task<T> call, StoreNode node, long budgetEnd, long longest, TokenBucketOptions options, CancellationToken cancellationToken)
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
                if (KeepWaiting(node, ref until, longest, options))
                {
                    continue;
                }
                Observe(call);
                throw;
            }
            catch (TimeoutException)
            {
                return await call.ConfigureAwait(false); // it came in while the timer's news was on its way
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Observe(call);
                throw;
            }
        }
    }

    // Whether to wait on past `until` for a reply that has not come, and till when: while the reply is plausibly on its
    // way, because this process is too busy to have read it (work waits in the thread pool's queue, or this wake-up
    // itself came late), or because the server keeps answering the calls in front of it. The wait goes on a step at a
    // time, up to LongestWait budgets in all. A server that stopped answering, seen by a process that keeps up, gets no
    // more than the budget (a call sent just before a hang, up to twice that).
    private bool KeepWaiting(StoreNode node, ref long until, long longest, TokenBucketOptions options, long laneAnswer = long.MinValue)
    {
        var now = _time.GetTimestamp();
        var step = options.Timeout / 4;
        // A batched call's lane hears of each answer as the connection reads it, before the requests it answered run on.
        var lastAnswer = Math.Max(node.LastReply, laneAnswer);
        var answering = lastAnswer != long.MinValue && _time.GetElapsedTime(lastAnswer, now) < options.Timeout;
        if (now < longest && (IsBehind || answering || _time.GetElapsedTime(until, now) > step))
        {
            until = now + Ticks(step);
            return true;
        }
        return false;
    }

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

    // The tokens admitted locally while a server was away are charged to Redis once it answers again: with the next
    // request for the bucket (see DecideGroupAsync), and here for the rest, all at once, so that no bucket gets a
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
            await redis.DecideAsync([storageKey], [new BucketCharge(policy, 0, owed.Tokens)], deadline: 0).WaitAsync(options.Timeout, _time).ConfigureAwait(false);
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
            yield return new Measurement<int>((int)state, new KeyValuePair<string, object?>(TokenBucketMetrics.ServerTag, server));
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private long Microseconds(long timestamp) => (long)(timestamp * (1_000_000d / _time.TimestampFrequency));

    // A bucket's configured policy and the options it was worked out under, so that a reload is noticed.
    private sealed record ConfiguredUnder(TokenBucketOptions Options, ConfiguredPolicy Configured);

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
        _activity.Dispose();
        _resets?.Dispose();
        _watch.Dispose();
    }
}
