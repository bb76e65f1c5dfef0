using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Limiting;
using RateGuard.Stores;
using RateGuard.TestSupport;

namespace RateGuard.Benchmarks;

/// <summary>
/// One admitted decision over a real redis-server (started on a free loopback port for the run), one caller at a time:
/// what the Redis path allocates and costs per decision, through the limiter (deadline, breaker, metrics) with batching
/// on and off, and the store's bare script call beneath it.
/// </summary>
[MemoryDiagnoser]
public class RedisDecisionBenchmarks
{
    private RedisServer _redis = null!;
    private ServiceProvider _batched = null!, _unbatched = null!;
    private TokenBucketLimiter _batchedLimiter = null!, _unbatchedLimiter = null!;
    private RedisTokenBucketStore _store = null!;
    private readonly TokenBucketPolicy _policy = new("bench", 1_000_000_000, 1_000_000);
    private StackExchange.Redis.RedisKey[] _keys = null!;
    private readonly BucketCharge[] _charges = new BucketCharge[1];
    private readonly RateLimitDecision[] _decisions = new RateLimitDecision[1];

    [GlobalSetup]
    public void Setup()
    {
        _redis = RedisServer.Start();
        (_batched, _batchedLimiter) = Limiter(batching: true);
        (_unbatched, _unbatchedLimiter) = Limiter(batching: false);
        _store = (RedisTokenBucketStore)_batchedLimiter.Store;
        _keys = [_store.GetKey(_policy, "client-42")];
        _charges[0] = new BucketCharge(_policy, 1, 0);
    }

    private (ServiceProvider, TokenBucketLimiter) Limiter(bool batching)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddTokenBuckets(o =>
        {
            o.Redis = $"127.0.0.1:{_redis.Port}";
            o.Batching = batching;
        });
        var provider = services.BuildServiceProvider();
        var limiter = provider.GetRequiredService<TokenBucketLimiter>();
        var store = (RedisTokenBucketStore)limiter.Store;
        store.Connecting.GetAwaiter().GetResult();
        // A few decisions first: the script is loaded and the server's clock learned before anything is measured.
        for (var i = 0; i < 50; i++)
        {
            limiter.AcquireAsync(_policy, FailureMode.Open, "client-42", CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        return (provider, limiter);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batched.Dispose();
        _unbatched.Dispose();
        _redis.Dispose();
    }

    [Benchmark(Baseline = true, Description = "store: one script call")]
    public async Task<bool> Store()
    {
        TokenBucketScript.Read(await _store.DecideAsync(_keys, _charges, 0), _decisions);
        return _decisions[0].IsAdmitted;
    }

    [Benchmark(Description = "limiter, batching off")]
    public async Task<bool> Unbatched() => (await _unbatchedLimiter.AcquireAsync(_policy, FailureMode.Open, "client-42", CancellationToken.None)).IsAdmitted;

    [Benchmark(Description = "limiter, batching on")]
    public async Task<bool> Batched() => (await _batchedLimiter.AcquireAsync(_policy, FailureMode.Open, "client-42", CancellationToken.None)).IsAdmitted;
}
