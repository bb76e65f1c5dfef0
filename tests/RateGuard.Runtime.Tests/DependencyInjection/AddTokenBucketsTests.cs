using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using RateGuard.TestSupport;
using StackExchange.Redis;

namespace RateGuard.Runtime.Tests.DependencyInjection;

[Collection(RedisCollection.Name)]
public sealed class AddTokenBucketsTests(RedisFixture redis)
{
    [Fact]
    public async Task Without_redis_the_in_memory_store_is_used_and_the_startup_log_says_limits_are_per_process()
    {
        using var host = BuildHost(new Dictionary<string, string?>(), out var logs);

        await host.StartAsync();

        Assert.IsType<InMemoryTokenBucketStore>(host.Services.GetRequiredService<ITokenBucketStore>());
        // A warning for the first app of the process, Debug for later ones (which app is first depends on test order).
        var message = Assert.Single(logs.GetSnapshot(), r => r.Id.Name == "InMemoryStore");
        Assert.Contains("per process", message.Message);
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Id.Name != "InMemoryStore");
        await host.StopAsync();
    }

    [Fact]
    public async Task A_redis_configuration_string_selects_the_redis_store()
    {
        using var host = BuildHost(new Dictionary<string, string?> { ["TokenBuckets:Redis"] = redis.Server.Configuration, ["TokenBuckets:KeyPrefix"] = "app1" }, out var logs);
        await host.StartAsync();

        var store = Assert.IsType<RedisTokenBucketStore>(host.Services.GetRequiredService<ITokenBucketStore>());
        var policy = TestPolicies.Create(1, 1);
        Assert.True((await store.AcquireAsync(policy, "k")).IsAdmitted);
        Assert.True(await redis.Database.KeyExistsAsync($"app1:{policy.Name}:{{k}}"));
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Level >= LogLevel.Warning);
        await host.StopAsync();
    }

    [Fact]
    public void A_connection_multiplexer_already_in_di_is_reused()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddSingleton<IConnectionMultiplexer>(redis.Connection);
        services.AddTokenBuckets();
        using var provider = services.BuildServiceProvider();

        var store = Assert.IsType<RedisTokenBucketStore>(provider.GetRequiredService<ITokenBucketStore>());
        Assert.Same(redis.Connection, store.Connection);
    }

    [Fact]
    public void A_delegate_configures_the_options()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddTokenBuckets(o => { o.KeyPrefix = "svc"; o.Clock = TokenBucketClock.Client; });
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<TokenBucketOptions>>().Value;
        Assert.Equal(("svc", TokenBucketClock.Client), (options.KeyPrefix, options.Clock));
    }

    [Fact]
    public async Task An_invalid_key_prefix_fails_at_startup_naming_the_setting()
    {
        using var host = BuildHost(new Dictionary<string, string?> { ["TokenBuckets:KeyPrefix"] = "bad:prefix{" }, out _);

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("TokenBuckets:KeyPrefix", e.Message);
    }

    [Fact]
    public async Task The_app_starts_while_the_configured_redis_is_unreachable()
    {
        var closedPort = RateGuard.TestSupport.RedisServer.FreePort();
        using var host = BuildHost(new Dictionary<string, string?> { ["TokenBuckets:Redis"] = $"127.0.0.1:{closedPort},connectTimeout=200" }, out _);

        await host.StartAsync();

        Assert.IsType<RedisTokenBucketStore>(host.Services.GetRequiredService<ITokenBucketStore>());
        await host.StopAsync();
    }

    private static IHost BuildHost(Dictionary<string, string?> settings, out FakeLogCollector logs)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders().AddFilter("RateGuard", LogLevel.Debug);
        builder.Services.AddFakeLogging();
        builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
        var host = builder.Build();
        logs = host.Services.GetFakeLogCollector();
        return host;
    }
}
