using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Redis;

/// <summary>Runs alone on its own server, because it reads and resets the server's command statistics.</summary>
public sealed class RedisScriptTests(ITestOutputHelper output) : IDisposable
{
    private readonly RedisFixture _redis = new();

    [Fact]
    public async Task Every_decision_is_one_evalsha_with_no_eval_per_decision()
    {
        var store = new RedisTokenBucketStore(_redis.Connection);
        var policy = TestPolicies.Create(capacity: 1000, rate: 100);
        await store.AcquireAsync(policy, "warm-up"); // the first use on a new server loads the script
        _redis.Admin.Execute("CONFIG", "RESETSTAT");

        const int decisions = 500;
        for (var i = 0; i < decisions; i++)
        {
            await store.AcquireAsync(policy, $"client-{i % 7}");
        }

        Assert.Equal(decisions, _redis.CommandCalls("evalsha"));
        Assert.Equal(0, _redis.CommandCalls("eval"));
    }

    [Fact]
    public async Task A_script_flush_between_two_decisions_loses_neither()
    {
        var store = new RedisTokenBucketStore(_redis.Connection);
        var policy = TestPolicies.Create(capacity: 10, rate: 0.001);
        var first = await store.AcquireAsync(policy, "k");
        _redis.Admin.Execute("SCRIPT", "FLUSH");
        _redis.Admin.Execute("CONFIG", "RESETSTAT");

        var second = await store.AcquireAsync(policy, "k");
        var third = await store.AcquireAsync(policy, "k");

        Assert.Equal((true, 9L), (first.IsAdmitted, first.Remaining));
        Assert.Equal((true, 8L), (second.IsAdmitted, second.Remaining));
        Assert.Equal((true, 7L), (third.IsAdmitted, third.Remaining));
        // NOSCRIPT, then one EVAL that runs and reloads the script, then EVALSHA again.
        Assert.Equal(1, _redis.CommandCalls("eval"));
        Assert.Equal(2, _redis.CommandCalls("evalsha"));
    }

    [Fact]
    public void The_script_is_embedded_with_its_contract_and_its_sha1_matches_script_load()
    {
        Assert.Contains("KEYS[1]", TokenBucketScript.Text);
        Assert.Contains("ARGV[4]", TokenBucketScript.Text);
        var loaded = (string?)_redis.Admin.Execute("SCRIPT", "LOAD", TokenBucketScript.Text);
        Assert.Equal(TokenBucketScript.Sha1Hex, loaded);
    }

    [Fact]
    public async Task One_bucket_key_uses_at_most_170_bytes_and_expires_when_full_again()
    {
        var store = new RedisTokenBucketStore(_redis.Connection);
        // Full again 10 s after one request: a busy machine reading the key a few hundred milliseconds later still
        // finds it (at 5 tokens a second it had expired after 200 ms, and MEMORY USAGE read 0).
        var policy = TestPolicies.Create(capacity: 10, rate: 0.1);
        var key = store.GetKey(policy, "2001:db8:85a3::8a2e:370:7334");

        var decision = await store.AcquireAsync(policy, "2001:db8:85a3::8a2e:370:7334");
        var memory = (long)_redis.Admin.Execute("MEMORY", "USAGE", key, "SAMPLES", "0");
        var ttl = await _redis.Database.KeyTimeToLiveAsync(key);

        output.WriteLine($"MEMORY USAGE {key}: {memory} bytes; PTTL {ttl?.TotalMilliseconds} ms; time to full {decision.ResetAfter.TotalMilliseconds} ms");
        Assert.InRange(memory, 1, 170);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMilliseconds(1), decision.ResetAfter);
    }

    public void Dispose() => _redis.Dispose();
}
