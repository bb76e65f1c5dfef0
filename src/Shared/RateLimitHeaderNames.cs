namespace RateGuard;

/// <summary>
/// The names of the rate-limit headers: written by the middleware, described by the OpenAPI and Swashbuckle packages,
/// one spelling for all three.
/// </summary>
internal static class RateLimitHeaderNames
{
    public const string DraftPolicy = "RateLimit-Policy";
    public const string Draft = "RateLimit";
    public const string LegacyRemaining = "X-RateLimit-Remaining";
    public const string LegacyReplenishRate = "X-RateLimit-Replenish-Rate";
    public const string LegacyBurstCapacity = "X-RateLimit-Burst-Capacity";
    public const string LegacyRequestedTokens = "X-RateLimit-Requested-Tokens";
}
