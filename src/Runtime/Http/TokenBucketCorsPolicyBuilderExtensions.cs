using Microsoft.AspNetCore.Cors.Infrastructure;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Lets browser clients read the rate-limit headers of cross-origin responses.</summary>
public static class TokenBucketCorsPolicyBuilderExtensions
{
    // Every header the limiter can send, whatever TokenBuckets:Headers is: exposing one the response lacks is harmless.
    private static readonly string[] s_headers =
    [
        "Retry-After",
        RateGuard.RateLimitHeaderNames.Draft,
        RateGuard.RateLimitHeaderNames.DraftPolicy,
        RateGuard.RateLimitHeaderNames.LegacyRemaining,
        RateGuard.RateLimitHeaderNames.LegacyReplenishRate,
        RateGuard.RateLimitHeaderNames.LegacyBurstCapacity,
        RateGuard.RateLimitHeaderNames.LegacyRequestedTokens,
    ];

    /// <summary>
    /// Exposes <c>Retry-After</c> and the rate-limit headers to scripts of the policy's origins. A browser shows a
    /// cross-origin script only the CORS-safelisted response headers unless the response names others in
    /// <c>Access-Control-Expose-Headers</c>, so without this a front end cannot tell when to retry. Call
    /// <c>app.UseCors()</c> before <c>app.UseTokenBuckets()</c>, so that rejections carry the CORS headers too.
    /// </summary>
    public static CorsPolicyBuilder WithExposedTokenBucketHeaders(this CorsPolicyBuilder policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.WithExposedHeaders(s_headers);
    }
}
