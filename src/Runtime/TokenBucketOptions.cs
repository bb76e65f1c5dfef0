using Microsoft.AspNetCore.Http;
using RateGuard.Configuration;

namespace RateGuard;

/// <summary>Options for token-bucket rate limiting, bound from the <c>TokenBuckets</c> configuration section.</summary>
public sealed class TokenBucketOptions
{
    /// <summary>The default <see cref="KeyPrefix"/>.</summary>
    public const string DefaultKeyPrefix = "rg";

    /// <summary>
    /// Whether limits are enforced. On by default; off, every request passes as if no limit were declared, with no
    /// store call and no rate-limit headers, until a reload turns it on again. For tests and emergencies: a limit that
    /// should not apply is better removed, or raised under <see cref="Buckets"/>.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// A StackExchange.Redis configuration string such as <c>localhost:6379</c>. When empty, an
    /// <c>IConnectionMultiplexer</c> registered in DI is used; when there is none either, buckets live in memory and
    /// every limit applies per process.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// A CA certificate file (PEM or DER) that the Redis server's TLS certificate must be issued by, for servers whose
    /// certificates the machine does not already trust. Used with <c>ssl=true</c> in <see cref="Redis"/>.
    /// </summary>
    public string? RedisCaCertificate { get; set; }

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
    /// What happens to a request when the store fails, is too slow, or its circuit is open. Defaults to
    /// <see cref="FailureMode.Open"/>: each instance enforces its share of every limit until the store decides again.
    /// </summary>
    public FailureMode FailureMode { get; set; } = FailureMode.Open;

    /// <summary>
    /// Whether rejections are enforced (<see cref="TokenBucketMode.Enforce"/>, the default) or only watched
    /// (<see cref="TokenBucketMode.Shadow"/>), for every bucket that does not set its own under <see cref="Buckets"/>.
    /// </summary>
    public TokenBucketMode Mode { get; set; } = TokenBucketMode.Enforce;

    /// <summary>The longest one decision may wait for the store before the failure mode applies. Defaults to 100 ms.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Consecutive store failures that open the circuit, after which the store is not called for <see cref="BreakDuration"/>.</summary>
    public int BreakerFailureThreshold { get; set; } = 3;

    /// <summary>How long an open circuit stays open before one request probes the store again. Defaults to 1 s.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many app instances share the limits: under <see cref="FailureMode.Open"/>, each instance enforces this share
    /// of every limit while the store cannot decide. When not set, each instance learns it from Redis while Redis is
    /// healthy (a heartbeat per instance), and the count follows the deployment as it scales; an instance that starts
    /// while Redis is unreachable has heard no heartbeat and counts itself alone until Redis answers.
    /// </summary>
    public int? InstanceCount { get; set; }

    /// <summary>
    /// Remembers Redis rejections until their retry-after, and rejects those clients in-process meanwhile: no tokens can
    /// appear before then, so this is exact, and a hot abuser costs no Redis calls. On by default.
    /// </summary>
    public bool DenyCache { get; set; } = true;

    /// <summary>The most clients the deny cache remembers at once. Defaults to 10,000.</summary>
    public int DenyCacheSize { get; set; } = 10_000;

    /// <summary>
    /// Sends the decisions that arrive for one Redis server (one cluster slot) while a call to it is in flight together,
    /// as one script call that decides them one after another in arrival order: each decision is exactly what it would
    /// have been alone. An idle app sends each decision at once. On by default; off sends one call per decision.
    /// </summary>
    public bool Batching { get; set; } = true;

    /// <summary>
    /// The prefix length by which <c>ip</c> keys group IPv6 clients: 64 (the default) gives one bucket per /64 network,
    /// so a host cannot escape its bucket by rotating through its own addresses; 128 gives one per address.
    /// </summary>
    public int IPv6PrefixLength { get; set; } = 64;

    /// <summary>
    /// Networks in CIDR form (<c>10.0.0.0/8</c>, <c>fd00::/8</c>, or one address) whose requests skip every limit: health
    /// checkers, internal callers. Matched against the connection's remote address, after forwarded headers are
    /// applied. A malformed entry stops the app at startup.
    /// </summary>
    public List<string> ExemptNetworks { get; set; } = [];

    private Clients.ExemptNetworks? _exemptNetworks;

    /// <summary>
    /// <see cref="ExemptNetworks"/> parsed, once per options instance (a reload builds a new one). Validation has
    /// refused options with a malformed entry before a request reads it.
    /// </summary>
    internal Clients.ExemptNetworks ExemptNetworkList() => _exemptNetworks ??= Clients.ExemptNetworks.Parse(ExemptNetworks);

    /// <summary>
    /// The most client overrides (set by operators through the operations API) the store holds and each instance
    /// keeps in memory: 10,000 by default, and between 1 and 1,000,000. Setting one more is refused until one expires
    /// or is removed.
    /// </summary>
    public int MaxOverrides { get; set; } = 10_000;

    // The highest MaxOverrides: every instance holds every override in memory, and reads them whole when they change.
    internal const int MaxOverridesLimit = 1_000_000;

    /// <summary>
    /// Per-bucket settings by bucket name, read at startup and on every configuration reload. A bucket is named exactly
    /// (<c>GET /items/{id}</c>) or by its environment form, each run of other characters than letters and digits
    /// written as one <c>_</c> (<c>GET_items_id</c>), which an environment variable name can carry.
    /// </summary>
    public Dictionary<string, TokenBucketOverride> Buckets { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The failure mode of bucket <paramref name="bucket"/>: its override's, else <see cref="FailureMode"/>.</summary>
    internal FailureMode FailureModeOf(string bucket) =>
        BucketNames.TryGetOverride(Buckets, bucket, out var overrides) && overrides.FailureMode is { } mode ? mode : FailureMode;

    /// <summary>Whether bucket <paramref name="bucket"/> only watches its rejections: its own mode, else <see cref="Mode"/>.</summary>
    internal bool IsShadow(string bucket) =>
        (BucketNames.TryGetOverride(Buckets, bucket, out var overrides) && overrides.Mode is { } mode ? mode : Mode) == TokenBucketMode.Shadow;

    /// <summary>The bucket's own settings, if configuration gives it any.</summary>
    internal TokenBucketOverride? SettingsOf(string bucket) => BucketNames.TryGetOverride(Buckets, bucket, out var overrides) ? overrides : null;

    /// <summary>
    /// <paramref name="declared"/> with the capacity and rate its bucket's override gives it, if any. An override that
    /// leaves the declared cost above the capacity throws <see cref="ArgumentException"/>, because no request could
    /// ever be admitted.
    /// </summary>
    internal TokenBucketPolicy Configure(TokenBucketPolicy declared)
    {
        if (!BucketNames.TryGetOverride(Buckets, declared.Name, out var overrides))
        {
            return declared;
        }
        var capacity = overrides.Capacity ?? declared.Capacity;
        if (overrides.Capacity is not null && declared.Cost > capacity)
        {
            throw new ArgumentException(CapacityBelowCost(declared.Name, capacity, declared.Cost));
        }
        return new TokenBucketPolicy(declared.Name, capacity, overrides.Rate ?? declared.Rate, declared.Cost);
    }

    internal static string CapacityBelowCost(string bucket, int capacity, int cost) =>
        $"TokenBuckets:Buckets:{bucket}:Capacity {capacity} is invalid with a cost of {cost} tokens per request: {LimitRules.CostWithinCapacity}.";

    /// <summary>
    /// Writes the response of a rejected request instead of the default problem body. The status code and the
    /// <c>Retry-After</c> and rate-limit headers are already set when it is called; it may change them.
    /// </summary>
    public Func<TokenBucketRejectedContext, ValueTask>? OnRejected { get; set; }
}

/// <summary>What a request gets while the store cannot decide (it fails, is too slow, or its circuit is open).</summary>
public enum FailureMode
{
    /// <summary>
    /// Fail open to each instance's share: every instance enforces its share of the limit in memory (capacity and rate
    /// divided by <see cref="TokenBucketOptions.InstanceCount"/>), starting from what Redis last said of the bucket,
    /// and what it admits is charged to Redis when Redis decides again. The limiter never becomes the outage, and the
    /// instances together stay near the limit.
    /// </summary>
    Open,

    /// <summary>Answer 503 with <c>Retry-After</c>: for limits that protect something that must not be overrun.</summary>
    Closed,

    /// <summary>
    /// Admit every request unchecked, log and count it: no limit at all until the store decides again. What failure mode
    /// <see cref="Open"/> did before it enforced each instance's share.
    /// </summary>
    AdmitAll,
}

/// <summary>Settings of one named bucket that configuration may change without a rebuild.</summary>
public sealed class TokenBucketOverride
{
    /// <summary>Replaces the capacity declared in code.</summary>
    public int? Capacity { get; set; }

    /// <summary>Replaces the rate declared in code.</summary>
    public double? Rate { get; set; }

    /// <summary>Replaces <see cref="TokenBucketOptions.FailureMode"/> for this bucket.</summary>
    public FailureMode? FailureMode { get; set; }

    /// <summary>Replaces <see cref="TokenBucketOptions.Mode"/> for this bucket: enforce its rejections, or only watch them.</summary>
    public TokenBucketMode? Mode { get; set; }

    /// <summary>
    /// Which responses the bucket counts, replacing what code declares (<see cref="TokenBucketAttribute.Count"/> or a
    /// count rule): <c>all</c>, <c>failures</c>, or status codes and ranges such as <c>401,403,500-599</c>.
    /// </summary>
    public string? Count { get; set; }

    /// <summary>
    /// The most one request may be charged once its handler reports its actual cost, replacing
    /// <see cref="TokenBucketAttribute.MaxCost"/>; 0 for none.
    /// </summary>
    public int? MaxCost { get; set; }

    /// <summary>
    /// The bucket's plans by name, for a limit that reads the caller's plan (<see cref="TokenBucketAttribute.Plan"/> or
    /// a plan resolver). Each value set here replaces the one declared in code with <c>AddTokenBucketPlans</c>.
    /// </summary>
    public Dictionary<string, TokenBucketPlan> Plans { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Key values that skip this bucket: no tokens are taken, and they are counted as exempt.</summary>
    public List<string> Exempt { get; set; } = [];

    /// <summary>Key values this bucket refuses with 403, whatever their plan.</summary>
    public List<string> Deny { get; set; } = [];
}

/// <summary>The rate-limit headers a response carries.</summary>
public enum RateLimitHeaderStyle
{
    /// <summary>The IETF draft fields: <c>RateLimit-Policy: "name";q=10;w=2</c> and <c>RateLimit: "name";r=9;t=1</c>.</summary>
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
