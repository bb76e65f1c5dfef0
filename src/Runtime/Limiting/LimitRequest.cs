using Microsoft.Extensions.ObjectPool;
using RateGuard.Limiting.Circuits;
using RateGuard.Limiting.Remote;
using RateGuard.Stores;
using StackExchange.Redis;

namespace RateGuard.Limiting;

/// <summary>
/// The buckets one request draws from, each with its key and failure mode, and the limiter's answer for each. Reused
/// from a pool, so deciding a request allocates no arrays of its own.
/// </summary>
internal sealed class LimitRequest
{
    // Enough for every request an app has in flight at once: a request that finds the pool empty allocates seven arrays.
    private static readonly ObjectPool<LimitRequest> s_pool = new DefaultObjectPool<LimitRequest>(new PoolPolicy(), 1024);

    private TokenBucketPolicy[] _policies = new TokenBucketPolicy[4];
    private string[] _keys = new string[4];
    private FailureMode[] _failureModes = new FailureMode[4];
    private LimiterResult[] _results = new LimiterResult[4];
    private RateLimitDecision[] _decisions = new RateLimitDecision[4];
    private int[] _tags = new int[4];
    private BucketCharge[] _charges = new BucketCharge[4];
    private bool[] _shadow = new bool[4];
    private bool[] _givesBack = new bool[4];
    // The one group of a one-bucket request over Redis, the common case, kept with the request rather than made per call.
    private readonly StoreGroup[] _oneGroup = [new StoreGroup(null!, [0], new RedisKey[1])];

    /// <summary>How many buckets the request draws from.</summary>
    public int Count { get; private set; }

    public ReadOnlySpan<TokenBucketPolicy> Policies => _policies.AsSpan(0, Count);

    public ReadOnlySpan<string> Keys => _keys.AsSpan(0, Count);

    public TokenBucketPolicy Policy(int i) => _policies[i];

    public string Key(int i) => _keys[i];

    public FailureMode FailureMode(int i) => _failureModes[i];

    /// <summary>Whether bucket <paramref name="i"/> is in shadow mode: it does not reject the request, and only says it would have.</summary>
    public bool Shadow(int i) => _shadow[i];

    /// <summary>
    /// Whether bucket <paramref name="i"/> may get tokens back once the request has run (it counts by outcome, or charges
    /// after the fact), so that a rejection of it does not say when tokens come: the deny cache does not remember it.
    /// </summary>
    public bool GivesBack(int i) => _givesBack[i];

    /// <summary>Whether any bucket is in shadow mode.</summary>
    public bool AnyShadow { get; private set; }

    /// <summary>Which buckets are in shadow mode, one flag each.</summary>
    public ReadOnlySpan<bool> ShadowFlags => _shadow.AsSpan(0, Count);

    /// <summary>What the caller attached to bucket <paramref name="i"/> (the middleware: the gate's position).</summary>
    public int Tag(int i) => _tags[i];

    /// <summary>The answer for each bucket, once decided.</summary>
    public Span<LimiterResult> Results => _results.AsSpan(0, Count);

    /// <summary>Room for one decision per bucket, for stores to write into.</summary>
    public Span<RateLimitDecision> Decisions => _decisions.AsSpan(0, Count);

    /// <summary>The array behind <see cref="Decisions"/>, for a call that is awaited (at least <see cref="Count"/> long).</summary>
    public RateLimitDecision[] DecisionBuffer => _decisions;

    /// <summary>Room for one charge per bucket, for a call that is awaited (at least <see cref="Count"/> long).</summary>
    public BucketCharge[] ChargeBuffer => _charges;

    /// <summary>The request's only group, for its only bucket, decided by <paramref name="node"/> at <paramref name="key"/> of <paramref name="slot"/>.</summary>
    public StoreGroup[] OneGroup(StoreNode node, RedisKey key, int slot)
    {
        _oneGroup[0].Reuse(node, key, slot);
        return _oneGroup;
    }

    public static LimitRequest Rent() => s_pool.Get();

    public static void Return(LimitRequest request) => s_pool.Return(request);

    public void Add(TokenBucketPolicy policy, FailureMode failureMode, string key, int tag = 0, bool shadow = false, bool givesBack = false)
    {
        if (Count == _policies.Length)
        {
            Array.Resize(ref _policies, Count * 2);
            Array.Resize(ref _keys, Count * 2);
            Array.Resize(ref _failureModes, Count * 2);
            Array.Resize(ref _results, Count * 2);
            Array.Resize(ref _decisions, Count * 2);
            Array.Resize(ref _tags, Count * 2);
            Array.Resize(ref _charges, Count * 2);
            Array.Resize(ref _shadow, Count * 2);
            Array.Resize(ref _givesBack, Count * 2);
        }
        _shadow[Count] = shadow;
        _givesBack[Count] = givesBack;
        AnyShadow |= shadow;
        _tags[Count] = tag;
        _policies[Count] = policy;
        _keys[Count] = key;
        _failureModes[Count] = failureMode;
        _results[Count] = default;
        Count++;
    }

    // Nothing of a request outlives it in the pool: policies may be ones the app lets go of (built per partition).
    private void Clear()
    {
        Array.Clear(_policies, 0, Count);
        Array.Clear(_keys, 0, Count);
        Array.Clear(_charges, 0, Count);
        Count = 0;
        AnyShadow = false;
    }

    private sealed class PoolPolicy : PooledObjectPolicy<LimitRequest>
    {
        public override LimitRequest Create() => new();

        public override bool Return(LimitRequest request)
        {
            request.Clear();
            return true;
        }
    }
}
