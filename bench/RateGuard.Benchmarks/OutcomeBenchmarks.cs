using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace RateGuard.Benchmarks;

/// <summary>
/// Counting by outcome on the request path: the plain header-keyed request through the middleware, against the same
/// request when its limit counts failures only (each successful request gets its token back after the response), when
/// its handler may charge after the fact (and reports nothing), and when its bucket is in shadow mode; and the plain
/// request on an app where another bucket is in shadow mode. Every bucket admits every request of a run.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(SharedMachineConfig))]
public class OutcomeBenchmarks
{
    private static readonly (string, string) s_key = ("X-Api-Key", "client-42");

    private MiddlewareApp _plain = null!, _outcomes = null!;
    private RepeatedRequest _plainRequest = null!, _countsFailures = null!, _metered = null!, _watched = null!, _beside = null!;

    [GlobalSetup]
    public void Setup()
    {
        _plain = new MiddlewareApp(null, nameof(Limits.ByHeader));
        _plainRequest = _plain.Request(nameof(Limits.ByHeader), s_key);
        _plainRequest.Expect($"\"{_plain.BucketOf(nameof(Limits.ByHeader))}\";q=1000000000;w=1000");

        _outcomes = new MiddlewareApp(
            services => services.Configure<TokenBucketOptions>(o => o.Buckets["watched"] = new TokenBucketOverride { Mode = TokenBucketMode.Shadow }),
            nameof(Limits.ByHeader),
            nameof(Limits.CountsFailures),
            nameof(Limits.Metered),
            nameof(Limits.Watched));
        _countsFailures = _outcomes.Request(nameof(Limits.CountsFailures), s_key);
        _countsFailures.Expect("\"failures\";q=1000000000;w=1000");
        _metered = _outcomes.Request(nameof(Limits.Metered), s_key);
        _metered.Expect("\"metered\";q=1000000000;w=1000");
        _watched = _outcomes.Request(nameof(Limits.Watched), s_key);
        _watched.Expect("\"watched\";q=1000000000;w=1000");
        _beside = _outcomes.Request(nameof(Limits.ByHeader), s_key);
        _beside.Expect($"\"{_outcomes.BucketOf(nameof(Limits.ByHeader))}\";q=1000000000;w=1000");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plain.Dispose();
        _outcomes.Dispose();
    }

    [Benchmark(Baseline = true, Description = "header key, counts every response")]
    public Task Plain() => _plainRequest.SendAsync();

    [Benchmark(Description = "counts failures only (a refund each)")]
    public Task CountsFailures() => _countsFailures.SendAsync();

    [Benchmark(Description = "may charge after the fact (none reported)")]
    public Task Metered() => _metered.SendAsync();

    [Benchmark(Description = "bucket in shadow mode")]
    public Task Watched() => _watched.SendAsync();

    [Benchmark(Description = "another bucket in shadow mode")]
    public Task Beside() => _beside.SendAsync();
}
