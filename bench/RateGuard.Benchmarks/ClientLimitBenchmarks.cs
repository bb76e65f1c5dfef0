using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Clients;
using RateGuard.Limiting;

namespace RateGuard.Benchmarks;

/// <summary>
/// Limits per client on the request path: a header-keyed request through the middleware, against the same request
/// when its limit reads a plan (from a header, from a resolver), when the app holds 10,000 operator overrides (the
/// request's key among them or not), and when another bucket of the app has exempt and deny lists. Every bucket,
/// plan and override admits every request of a run, so each case takes the same decision path.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(SharedMachineConfig))]
public class ClientLimitBenchmarks
{
    private const int Overrides = 10_000;
    private static readonly (string, string) s_key = ("X-Api-Key", "client-42");

    private MiddlewareApp _plain = null!, _plans = null!, _lists = null!, _overridesOthers = null!, _overridesMine = null!;
    private RepeatedRequest _plainRequest = null!, _planFromHeader = null!, _planFromResolver = null!, _listsElsewhere = null!, _notOverridden = null!, _overridden = null!;

    [GlobalSetup]
    public void Setup()
    {
        _plain = new MiddlewareApp(null, nameof(Limits.ByHeader));
        _plainRequest = _plain.Request(nameof(Limits.ByHeader), s_key);
        var plain = _plain.BucketOf(nameof(Limits.ByHeader));
        _plainRequest.Expect($"\"{plain}\";q=1000000000;w=1000");

        _plans = new MiddlewareApp(
            services => services
                .AddTokenBucketPlans("planned", p => p.Plan("free", 1_000, 10).Plan("pro", 2_000_000_000, 1_000_000))
                .AddTokenBucketPlans("resolved", p => p.Plan("free", 1_000, 10).Plan("pro", 2_000_000_000, 1_000_000)),
            nameof(Limits.PlanFromHeader),
            nameof(Limits.PlanFromResolver));
        _planFromHeader = _plans.Request(nameof(Limits.PlanFromHeader), s_key, ("X-Plan", "pro"));
        _planFromHeader.Expect("\"planned\";q=2000000000;w=2000");
        _planFromResolver = _plans.Request(nameof(Limits.PlanFromResolver), s_key);
        _planFromResolver.Expect("\"resolved\";q=2000000000;w=2000");

        _lists = new MiddlewareApp(
            services => services.AddTokenBucketPlans("listed", p => p.Exempt("probe", "monitor").Deny("mallory", "trudy")),
            nameof(Limits.ByHeader),
            nameof(Limits.Listed));
        _listsElsewhere = _lists.Request(nameof(Limits.ByHeader), s_key);
        _listsElsewhere.Expect($"\"{_lists.BucketOf(nameof(Limits.ByHeader))}\";q=1000000000;w=1000");

        _overridesOthers = new MiddlewareApp(null, nameof(Limits.ByHeader));
        var bucket = _overridesOthers.BucketOf(nameof(Limits.ByHeader));
        Hold(_overridesOthers, OverridesFor(bucket, includingRequestKey: false));
        _notOverridden = _overridesOthers.Request(nameof(Limits.ByHeader), s_key);
        _notOverridden.Expect($"\"{bucket}\";q=1000000000;w=1000");

        _overridesMine = new MiddlewareApp(null, nameof(Limits.ByHeader));
        bucket = _overridesMine.BucketOf(nameof(Limits.ByHeader));
        Hold(_overridesMine, OverridesFor(bucket, includingRequestKey: true));
        _overridden = _overridesMine.Request(nameof(Limits.ByHeader), s_key);
        _overridden.Expect($"\"{bucket}\";q=2000000000;w=2000");
    }

    // 10,000 overrides on the request's bucket, for keys shaped like the request's; the request's own key is the last of
    // them, or is left out.
    private static List<ClientOverride> OverridesFor(string bucket, bool includingRequestKey)
    {
        var expires = DateTimeOffset.UtcNow.AddDays(1);
        var overrides = new List<ClientOverride>(Overrides);
        for (var i = 0; i < Overrides - 1; i++)
        {
            overrides.Add(new ClientOverride(bucket, $"other-{i:D4}", 2_000_000_000, 1_000_000, expires));
        }
        overrides.Add(new ClientOverride(bucket, includingRequestKey ? s_key.Item2 : "other-9999", 2_000_000_000, 1_000_000, expires));
        return overrides;
    }

    // Set as an operator sets them, in the app's override store, and loaded as the app loads them: the app reloads its
    // overrides from the store in the background, so overrides put straight into its table would not stay there.
    private static void Hold(MiddlewareApp app, List<ClientOverride> overrides)
    {
        var sync = app.Services.GetRequiredService<TokenBucketLimiter>().Overrides;
        foreach (var entry in overrides)
        {
            if (!sync.Store.SetAsync(entry, Overrides, DateTimeOffset.UtcNow).GetAwaiter().GetResult().Kept)
            {
                throw new InvalidOperationException($"The override store did not keep the override of {entry.Key}.");
            }
        }
        sync.RefreshAsync().GetAwaiter().GetResult();
        if (app.Services.GetRequiredService<ClientOverrides>().Count != Overrides)
        {
            throw new InvalidOperationException($"The app holds {app.Services.GetRequiredService<ClientOverrides>().Count} overrides, not {Overrides}.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plain.Dispose();
        _plans.Dispose();
        _lists.Dispose();
        _overridesOthers.Dispose();
        _overridesMine.Dispose();
    }

    [Benchmark(Baseline = true, Description = "header key, nothing per client")]
    public Task Plain() => _plainRequest.SendAsync();

    [Benchmark(Description = "plan from a header")]
    public Task PlanFromHeader() => _planFromHeader.SendAsync();

    [Benchmark(Description = "plan from a resolver")]
    public Task PlanFromResolver() => _planFromResolver.SendAsync();

    [Benchmark(Description = "10,000 overrides, key not overridden")]
    public Task NotOverridden() => _notOverridden.SendAsync();

    [Benchmark(Description = "10,000 overrides, key overridden")]
    public Task Overridden() => _overridden.SendAsync();

    [Benchmark(Description = "lists on another bucket")]
    public Task ListsElsewhere() => _listsElsewhere.SendAsync();
}
