using Microsoft.Extensions.Time.Testing;
using RateGuard.Operations;
using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Runtime.Tests.Resilience;
using RateGuard.TestSupport;

namespace RateGuard.Runtime.Tests.Clients;

/// <summary>
/// Client overrides through the operations service, over Redis and in memory: set, listed, replaced, removed, expired,
/// bounded, refused when a limit could not have their values, and applied by this instance at once.
/// </summary>
public sealed class ClientOverrideTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const string Bucket = "GET /reports";

    // Cost 3: an override must hold at least one request.
    private static readonly TokenBucketPolicy s_policy = new(Bucket, capacity: 10, rate: 1, cost: 3);

    // A whole millisecond, as the store keeps expiry times.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

    private readonly string _prefix = "co" + Guid.NewGuid().ToString("N")[..8];

    private async Task<LimiterHarness> StartAsync(string store, int maxOverrides = 10_000)
    {
        var harness = new LimiterHarness(o =>
        {
            o.MaxOverrides = maxOverrides;
            o.KeyPrefix = _prefix;
            if (store == "redis")
            {
                o.Redis = redis.Server.Configuration;
            }
        }, _time);
        if (store == "redis")
        {
            await harness.ConnectedAsync();
        }
        harness.Configured(s_policy);
        return harness;
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("memory")]
    public async Task An_override_is_listed_with_its_absolute_expiry_and_applied_on_this_instance_at_once(string store)
    {
        using var harness = await StartAsync(store);

        await harness.Operations.SetOverrideAsync(Bucket, "alice", capacity: 50, rate: 5, TimeSpan.FromHours(1));

        var listed = Assert.Single(await harness.Operations.GetOverridesAsync());
        Assert.Equal(new TokenBucketClientOverride(Bucket, "alice", 50, 5, _time.GetUtcNow().AddHours(1)), listed);
        Assert.True(harness.ClientOverrides.TryGet(s_policy, "alice", out var applied));
        Assert.Equal((Bucket, 50, 5d, 3), (applied.Name, applied.Capacity, applied.Rate, applied.Cost));
        Assert.False(harness.ClientOverrides.TryGet(s_policy, "bob", out var declared));
        Assert.Same(s_policy, declared);
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("memory")]
    public async Task Setting_a_client_s_override_again_replaces_it(string store)
    {
        using var harness = await StartAsync(store);
        await harness.Operations.SetOverrideAsync(Bucket, "alice", 50, 5, TimeSpan.FromHours(1));

        await harness.Operations.SetOverrideAsync(Bucket, "alice", 3, 0.5, TimeSpan.FromMinutes(5));

        var listed = Assert.Single(await harness.Operations.GetOverridesAsync());
        Assert.Equal(new TokenBucketClientOverride(Bucket, "alice", 3, 0.5, _time.GetUtcNow().AddMinutes(5)), listed);
        Assert.True(harness.ClientOverrides.TryGet(s_policy, "alice", out var applied));
        Assert.Equal((3, 0.5), (applied.Capacity, applied.Rate));
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("memory")]
    public async Task Removing_an_override_says_whether_there_was_one_and_the_declared_limit_applies_again(string store)
    {
        using var harness = await StartAsync(store);
        await harness.Operations.SetOverrideAsync(Bucket, "alice", 50, 5, TimeSpan.FromHours(1));
        await harness.Operations.SetOverrideAsync(Bucket, "bob", 50, 5, TimeSpan.FromHours(1));

        var removed = await harness.Operations.RemoveOverrideAsync(Bucket, "alice");
        var again = await harness.Operations.RemoveOverrideAsync(Bucket, "alice");
        // A bucket no endpoint uses any more: its overrides can still go.
        var gone = await harness.Operations.RemoveOverrideAsync("GET /old", "alice");

        Assert.Equal((true, false, false), (removed, again, gone));
        Assert.Equal(["bob"], (await harness.Operations.GetOverridesAsync()).Select(o => o.Key));
        Assert.False(harness.ClientOverrides.TryGet(s_policy, "alice", out _));
        Assert.True(harness.ClientOverrides.TryGet(s_policy, "bob", out _));
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("memory")]
    public async Task An_expired_override_is_neither_listed_nor_applied_and_the_next_write_removes_it_from_the_store(string store)
    {
        using var harness = await StartAsync(store);
        await harness.Operations.SetOverrideAsync(Bucket, "alice", 50, 5, TimeSpan.FromSeconds(10));
        await harness.Operations.SetOverrideAsync(Bucket, "bob", 50, 5, TimeSpan.FromHours(1));

        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(["bob"], (await harness.Operations.GetOverridesAsync()).Select(o => o.Key));
        Assert.False(harness.ClientOverrides.TryGet(s_policy, "alice", out _));
        // This instance drops it from what it holds too, at its next poll.
        await Eventually.Until(() => harness.ClientOverrides.Count == 1, "the expired override is dropped from this instance's copy");
        Assert.Equal(2, (await harness.Limiter.Overrides.Store.LoadAsync()).Entries.Count); // still stored, until a write

        await harness.Operations.SetOverrideAsync(Bucket, "carol", 50, 5, TimeSpan.FromHours(1));

        Assert.Equal(["bob", "carol"], (await harness.Limiter.Overrides.Store.LoadAsync()).Entries.Select(o => o.Key).Order());
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("memory")]
    public async Task One_override_more_than_MaxOverrides_is_refused_but_a_replacement_or_one_in_place_of_an_expired_one_is_not(string store)
    {
        using var harness = await StartAsync(store, maxOverrides: 2);
        await harness.Operations.SetOverrideAsync(Bucket, "alice", 50, 5, TimeSpan.FromSeconds(10));
        await harness.Operations.SetOverrideAsync(Bucket, "bob", 50, 5, TimeSpan.FromHours(1));

        var full = await Assert.ThrowsAsync<InvalidOperationException>(async () => await harness.Operations.SetOverrideAsync(Bucket, "carol", 50, 5, TimeSpan.FromHours(1)));
        await harness.Operations.SetOverrideAsync(Bucket, "alice", 60, 5, TimeSpan.FromSeconds(10));
        _time.Advance(TimeSpan.FromSeconds(10));
        await harness.Operations.SetOverrideAsync(Bucket, "carol", 50, 5, TimeSpan.FromHours(1));

        Assert.Equal(
            "The store already holds 2 client overrides, the most TokenBuckets:MaxOverrides allows (2), so the override of client 'carol' on bucket 'GET /reports' is not set. " +
            "Remove one, let one expire, or raise TokenBuckets:MaxOverrides.",
            full.Message);
        Assert.Equal(["bob", "carol"], (await harness.Operations.GetOverridesAsync()).Select(o => o.Key));
    }

    public static TheoryData<string, int, double, double, string, string> InvalidOverrides => new()
    {
        { "alice", 0, 1, 60, "capacity", "The override's capacity 0 is invalid: " + LimitRules.Capacity + "." },
        { "alice", 2, 1, 60, "capacity", "The override's capacity 2 is below the 3 tokens one request to bucket 'GET /reports' takes, so the client could never be admitted: give a capacity of at least 3." },
        { "alice", 10, 0, 60, "rate", "The override's rate 0 is invalid: " + LimitRules.Rate + "." },
        { "alice", 10, double.NaN, 60, "rate", "The override's rate NaN is invalid: " + LimitRules.Rate + "." },
        { "alice", 10, 2_000_000, 60, "rate", "The override's rate 2000000 is invalid: " + LimitRules.Rate + "." },
        { "alice", 1_000_000_000, 0.001, 60, "rate", "The override's capacity 1000000000 at rate 0.001 is invalid: " + LimitRules.Window + "." },
        { "alice", 10, 1, 0, "expiresAfter", "The override's lifetime of 0 s is invalid: an override lasts more than 0 seconds and at most 365 days (31536000 s); set it again before it ends to keep it longer." },
        { "alice", 10, 1, 365 * 86_400 + 1, "expiresAfter", "The override's lifetime of 31536001 s is invalid: an override lasts more than 0 seconds and at most 365 days (31536000 s); set it again before it ends to keep it longer." },
        { "", 10, 1, 60, "key", "The client value is empty: an override names a client value as the limit reads it (an IP address, a user name, a header's value)." },
        { new string('k', 1025), 10, 1, 60, "key", "The client value is 1,025 characters long: an override names a client value of at most 1,024, since every instance holds it in memory." },
    };

    [Theory]
    [MemberData(nameof(InvalidOverrides))]
    public async Task Values_no_limit_could_have_are_refused_with_the_rule_they_break_and_nothing_is_kept(string key, int capacity, double rate, double seconds, string parameter, string message)
    {
        using var harness = await StartAsync("memory");

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(async () => await harness.Operations.SetOverrideAsync(Bucket, key, capacity, rate, TimeSpan.FromSeconds(seconds)));

        Assert.Equal(parameter, error.ParamName);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.Empty(await harness.Operations.GetOverridesAsync());
    }

    [Fact]
    public async Task A_bucket_the_app_does_not_have_is_refused_naming_the_closest_one()
    {
        using var harness = await StartAsync("memory");

        var error = await Assert.ThrowsAsync<UnknownTokenBucketException>(async () => await harness.Operations.SetOverrideAsync("GET /report", "alice", 50, 5, TimeSpan.FromHours(1)));

        Assert.Equal("There is no bucket 'GET /report'. Did you mean 'GET /reports'? Bucket names are case-sensitive, as rate-limit headers give them.", error.Message);
    }

    [Fact]
    public void MaxOverrides_outside_1_to_a_million_is_refused_by_the_options()
    {
        var validator = new TokenBucketOptionsValidator(new Configuration.KnownBuckets([]));

        var none = validator.Validate(null, new TokenBucketOptions { MaxOverrides = 0 });
        var tooMany = validator.Validate(null, new TokenBucketOptions { MaxOverrides = 1_000_001 });
        var most = validator.Validate(null, new TokenBucketOptions { MaxOverrides = 1_000_000 });

        Assert.Equal(["TokenBuckets:MaxOverrides must be between 1 and 1,000,000 (every instance holds them all in memory), but was 0."], none.Failures);
        Assert.Equal(["TokenBuckets:MaxOverrides must be between 1 and 1,000,000 (every instance holds them all in memory), but was 1000001."], tooMany.Failures);
        Assert.True(most.Succeeded);
    }
}
