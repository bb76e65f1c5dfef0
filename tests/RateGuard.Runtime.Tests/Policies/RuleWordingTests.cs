using System.Globalization;
using RateGuard.Configuration;

namespace RateGuard.Runtime.Tests.Policies;

/// <summary>
/// One wording per rule: a limit refused by its policy or by configuration gives the rule in the words of
/// <see cref="LimitRules"/>, the analyzer's diagnostics and the gateway's route reader (each checked by its own tests).
/// </summary>
public sealed class RuleWordingTests
{
    public static TheoryData<Func<TokenBucketPolicy>, string> InvalidPolicies => new()
    {
        { () => new TokenBucketPolicy("orders", 0, 1), "Token bucket 'orders': capacity 0 is invalid: " + LimitRules.Capacity + "." },
        { () => new TokenBucketPolicy("orders", 10, 0), "Token bucket 'orders': rate 0 is invalid: " + LimitRules.Rate + "." },
        { () => new TokenBucketPolicy("orders", 10, double.NaN), "Token bucket 'orders': rate NaN is invalid: " + LimitRules.Rate + "." },
        { () => new TokenBucketPolicy("orders", 1_000_000_000, 0.001), "Token bucket 'orders': capacity 1000000000 at rate 0.001 is invalid: " + LimitRules.Window + "." },
        { () => new TokenBucketPolicy("orders", 10, 1, 0), "Token bucket 'orders': cost 0 is invalid: " + LimitRules.Cost + "." },
        { () => new TokenBucketPolicy("a:b", 10, 1), "Token bucket name 'a:b' is invalid: " + LimitRules.BucketName + "." },
    };

    [Theory]
    [MemberData(nameof(InvalidPolicies))]
    public void A_policy_refuses_an_invalid_limit_with_the_rule_it_breaks(Func<TokenBucketPolicy> create, string message)
    {
        var error = Assert.ThrowsAny<ArgumentException>(create);

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configuration_refuses_an_invalid_override_with_the_rule_it_breaks()
    {
        var options = new TokenBucketOptions { KeyPrefix = "r g" };
        options.Buckets["orders"] = new TokenBucketOverride { Capacity = 0, Rate = -1 };
        options.Buckets["a:b"] = new TokenBucketOverride();

        var result = new TokenBucketOptionsValidator(new KnownBuckets([])).Validate(null, options);

        Assert.Equal(
            [
                "TokenBuckets:KeyPrefix 'r g' is invalid: " + LimitRules.KeyPrefix + ".",
                "TokenBuckets:Buckets:orders:Capacity 0 is invalid: " + LimitRules.Capacity + ".",
                "TokenBuckets:Buckets:orders:Rate -1 is invalid: " + LimitRules.Rate + ".",
                "TokenBuckets:Buckets:a:b is invalid: " + LimitRules.BucketName + ".",
            ],
            result.Failures);
    }

    [Fact]
    public void The_rules_state_the_limits_the_checks_enforce()
    {
        var length = TokenBucketLimits.MaxNameLength.ToString(CultureInfo.InvariantCulture);
        Assert.Contains($"1 to {length} ", LimitRules.BucketName, StringComparison.Ordinal);
        Assert.Contains($"1 to {length} ", LimitRules.DeclaredBucketName, StringComparison.Ordinal);
        Assert.Contains($"1 to {length} ", LimitRules.KeyPrefix, StringComparison.Ordinal);
        Assert.Contains($"at most {TokenBucketLimits.MaxRate.ToString("N0", CultureInfo.InvariantCulture)}", LimitRules.Rate, StringComparison.Ordinal);
        Assert.Equal(TokenBucketLimits.MaxWindowMicroseconds, TimeSpan.FromDays(36525).TotalMicroseconds);
        Assert.Contains("within 100 years", LimitRules.Window, StringComparison.Ordinal);
        Assert.False(TokenBucketLimits.IsValidCapacity(0));
        Assert.True(TokenBucketLimits.IsValidCapacity(1));
        Assert.False(TokenBucketLimits.IsValidCost(0));
        Assert.True(TokenBucketLimits.IsValidCost(1));
    }
}
