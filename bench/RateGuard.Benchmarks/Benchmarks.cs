using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.CompilerServices;
using RateGuard.Gates;
using RateGuard.Limiting;

namespace RateGuard.Benchmarks;

/// <summary>One admitted decision: this project's generated gate and in-memory store, against ASP.NET Core's in-process token bucket keyed the same way.</summary>
[MemoryDiagnoser]
public class DecisionBenchmarks
{
    private readonly DefaultHttpContext _context = Contexts.Create();
    private ServiceProvider _services = null!;
    private TokenBucketGate _gate = null!;
    private TokenBucketLimiter _limiter = null!;
    private PartitionedRateLimiter<HttpContext> _aspNet = null!;

    [GlobalSetup]
    public void Setup()
    {
        _services = Contexts.Services();
        _limiter = _services.GetRequiredService<TokenBucketLimiter>();
        _gate = Contexts.GeneratedGate(new TokenBucketSpec(1_000_000_000, 1_000_000, "ip", 1, null), _services);
        _aspNet = PartitionedRateLimiter.Create<HttpContext, string>(context => RateLimitPartition.GetTokenBucketLimiter(
            context.Connection.RemoteIpAddress!.ToString(),
            _ => new TokenBucketRateLimiterOptions { TokenLimit = 1_000_000_000, TokensPerPeriod = 1_000_000, ReplenishmentPeriod = TimeSpan.FromSeconds(1), QueueLimit = 0 }));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _aspNet.Dispose();
        _services.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ASP.NET Core TokenBucketRateLimiter, partitioned by IP")]
    public bool AspNetCore()
    {
        using var lease = _aspNet.AttemptAcquire(_context);
        return lease.IsAcquired;
    }

    [Benchmark(Description = "RateGuard generated gate, in-memory store")]
    public bool RateGuard()
    {
        var key = _gate.GetPartitionKey(_context)!;
        var pending = _limiter.AcquireAsync(_gate.Policy, FailureMode.Open, key, CancellationToken.None);
        return pending.Result.IsAdmitted;
    }
}

/// <summary>Reading the key: the generated gate's straight-line call, against the fallback gate built from the attribute.</summary>
[MemoryDiagnoser]
public class KeyExtractionBenchmarks
{
    private readonly DefaultHttpContext _context = Contexts.Create();
    private ServiceProvider _services = null!;
    private TokenBucketGate _generatedIp = null!, _fallbackIp = null!, _generatedHeader = null!, _fallbackHeader = null!;

    [GlobalSetup]
    public void Setup()
    {
        _services = Contexts.Services();
        var ip = new TokenBucketSpec(1_000_000_000, 1_000_000, "ip", 1, null);
        var header = new TokenBucketSpec(1_000_000_000, 1_000_000, "header:X-Api-Key", 1, null);
        _generatedIp = Contexts.GeneratedGate(ip, _services);
        _generatedHeader = Contexts.GeneratedGate(header, _services);
        _fallbackIp = GateBuilder.BuildFallback(ip, "bench", _services, Contexts.Ipv6PrefixLength);
        _fallbackHeader = GateBuilder.BuildFallback(header, "bench", _services, Contexts.Ipv6PrefixLength);
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Baseline = true, Description = "fallback gate, ip")]
    public string? FallbackIp() => _fallbackIp.GetPartitionKey(_context);

    [Benchmark(Description = "generated gate, ip")]
    public string? GeneratedIp() => _generatedIp.GetPartitionKey(_context);

    [Benchmark(Description = "fallback gate, header")]
    public string? FallbackHeader() => _fallbackHeader.GetPartitionKey(_context);

    [Benchmark(Description = "generated gate, header")]
    public string? GeneratedHeader() => _generatedHeader.GetPartitionKey(_context);
}

internal static class Contexts
{
    public const int Ipv6PrefixLength = 64;

    public static DefaultHttpContext Create()
    {
        var context = new DefaultHttpContext();
        // One address instance per connection, as the server gives it.
        context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.7");
        context.Request.Headers["X-Api-Key"] = "client-42";
        return context;
    }

    public static ServiceProvider Services()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddTokenBuckets();
        return services.BuildServiceProvider();
    }

    public static TokenBucketGate GeneratedGate(TokenBucketSpec spec, IServiceProvider services)
    {
        RuntimeHelpers.RunModuleConstructor(typeof(Limits).Module.ModuleHandle);
        if (!TokenBucketGateRegistry.TryGet(spec, out var factory))
        {
            throw new InvalidOperationException($"No generated gate for {spec}: is the generator referenced?");
        }
        return GateBuilder.Build(factory, "bench", services, Ipv6PrefixLength);
    }
}
