using RateGuard.Runtime.Tests.Infrastructure;
using RateGuard.Stores;
using RateGuard.TestSupport;

namespace RateGuard.Runtime.Tests.Keys;

[Collection(RedisCollection.Name)]
public sealed class HostileKeyTests(RedisFixture redis)
{
    // "rg:" + a 100-character bucket name + ":{" + the longest value form + "}".
    private const int MaxKeyLength = 3 + TokenBucketPolicy.MaxNameLength + 2 + BucketKey.MaxRawValueLength + 1;

    private readonly RedisTokenBucketStore _store = new(redis.Connection);

    public static TheoryData<string> HostileValues => new()
    {
        new string('A', 16 * 1024),
        "{",
        "}",
        "a}b{c",
        "{tag}",
        "x:y:{z}",
        "line\nbreak",
        "carriage\r\nreturn",
        "nul\0byte",
        "\0",
        "",
        " ",
        "#looks-hashed",
        "ünïcødé",
    };

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task A_hostile_value_gives_a_short_key_with_exactly_one_hash_tag_and_a_working_bucket(string value)
    {
        var policy = TestPolicies.Create(capacity: 2, rate: 1);
        var key = _store.GetKey(policy, value);

        Assert.InRange(key.Length, 1, MaxKeyLength);
        Assert.Equal(1, key.Count(c => c == '{'));
        Assert.Equal(1, key.Count(c => c == '}'));
        Assert.EndsWith("}", key);
        Assert.DoesNotContain(key, c => char.IsControl(c) || c > '~');

        Assert.Equal((true, 1L), Outcome(await _store.AcquireAsync(policy, value)));
        Assert.Equal((true, 0L), Outcome(await _store.AcquireAsync(policy, value)));
        Assert.Equal((false, 0L), Outcome(await _store.AcquireAsync(policy, value)));
        Assert.True(await redis.Database.KeyExistsAsync(key));
    }

    [Fact]
    public void Ten_thousand_distinct_values_give_ten_thousand_distinct_bounded_keys()
    {
        var policy = TestPolicies.Create(capacity: 1, rate: 1);
        var keys = new HashSet<string>();
        for (var i = 0; i < 10_000; i++)
        {
            // A mix of safe values, long values and values with delimiters.
            var value = (i % 3) switch
            {
                0 => $"client-{i}",
                1 => new string('x', 100) + i,
                _ => $"{{{i}}}:\n",
            };
            var key = _store.GetKey(policy, value);
            Assert.InRange(key.Length, 1, MaxKeyLength);
            Assert.True(keys.Add(key), $"Value {i} collided with an earlier value.");
        }
    }

    [Theory]
    [InlineData("abc", "abc\0")]
    [InlineData("a", "{a}")]
    [InlineData("x", "x}")]
    [InlineData("x", "#x")]
    public async Task Crafted_look_alike_values_do_not_share_a_bucket(string first, string second)
    {
        var policy = TestPolicies.Create(capacity: 1, rate: 0.01);

        Assert.NotEqual(_store.GetKey(policy, first), _store.GetKey(policy, second));
        Assert.True((await _store.AcquireAsync(policy, first)).IsAdmitted);
        Assert.True((await _store.AcquireAsync(policy, second)).IsAdmitted);
    }

    [Fact]
    public async Task Distinct_lone_surrogates_do_not_share_a_bucket()
    {
        // Not theory data: xunit stores that as UTF-8, which turns every lone surrogate into U+FFFD.
        var first = new string((char)0xD800, 1);
        var second = new string((char)0xD801, 1);

        await Crafted_look_alike_values_do_not_share_a_bucket(first, second);
    }

    [Fact]
    public async Task A_value_equal_to_another_values_hash_does_not_share_its_bucket()
    {
        var policy = TestPolicies.Create(capacity: 1, rate: 0.01);
        const string original = "has}brace";
        var hashForm = BucketKey.Normalize(original);

        Assert.StartsWith("#", hashForm);
        Assert.NotEqual(_store.GetKey(policy, original), _store.GetKey(policy, hashForm));
        Assert.True((await _store.AcquireAsync(policy, original)).IsAdmitted);
        Assert.True((await _store.AcquireAsync(policy, hashForm)).IsAdmitted);
    }

    [Fact]
    public void Safe_values_stay_readable_in_the_key()
    {
        var policy = new TokenBucketPolicy("orders", 1, 1);

        Assert.Equal("rg:orders:{192.0.2.1}", _store.GetKey(policy, "192.0.2.1"));
        Assert.Equal("rg:orders:{2001:db8::1}", _store.GetKey(policy, "2001:db8::1"));
        Assert.Equal("rg:orders:{user@example.com}", _store.GetKey(policy, "user@example.com"));
    }

    [Fact]
    public async Task The_in_memory_store_holds_hostile_values_as_their_bounded_form()
    {
        using var store = new InMemoryTokenBucketStore();
        var policy = TestPolicies.Create(capacity: 1, rate: 1);
        var huge = new string('z', 16 * 1024);

        Assert.True((await store.AcquireAsync(policy, huge)).IsAdmitted);
        Assert.False((await store.AcquireAsync(policy, huge)).IsAdmitted);
        Assert.True((await store.AcquireAsync(policy, huge + "!")).IsAdmitted);
        Assert.Equal(BucketKey.HashedValueLength, BucketKey.Normalize(huge).Length);
    }

    private static (bool, long) Outcome(RateLimitDecision decision) => (decision.IsAdmitted, decision.Remaining);
}
