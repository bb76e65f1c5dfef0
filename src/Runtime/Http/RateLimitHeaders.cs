using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace RateGuard.Http;

/// <summary>Writes the rate-limit headers of a response.</summary>
internal static class RateLimitHeaders
{
    public const string DraftPolicy = "RateLimit-Policy";
    public const string Draft = "RateLimit";
    public const string LegacyRemaining = "X-RateLimit-Remaining";
    public const string LegacyReplenishRate = "X-RateLimit-Replenish-Rate";
    public const string LegacyBurstCapacity = "X-RateLimit-Burst-Capacity";
    public const string LegacyRequestedTokens = "X-RateLimit-Requested-Tokens";

    /// <summary>Writes the headers for the decisions made so far, in gate order.</summary>
    public static void Write(HttpResponse response, RateLimitHeaderStyle style, EndpointGates gates, ReadOnlySpan<RateLimitDecision> decisions)
    {
        if (style == RateLimitHeaderStyle.None || decisions.IsEmpty)
        {
            return;
        }
        var headers = response.Headers;
        if (style == RateLimitHeaderStyle.Draft)
        {
            headers[DraftPolicy] = gates.DraftPolicyHeader;
            headers[Draft] = decisions.Length == 1
                ? DraftItem(gates.Gates[0].Policy.Name, decisions[0])
                : DraftList(gates, decisions);
            return;
        }

        // The legacy headers describe a single bucket: report the one closest to rejecting.
        var tightest = 0;
        for (var i = 1; i < decisions.Length; i++)
        {
            if (decisions[i].Remaining < decisions[tightest].Remaining || !decisions[i].IsAdmitted)
            {
                tightest = i;
            }
        }
        var policy = gates.Gates[tightest].Policy;
        headers[LegacyRemaining] = decisions[tightest].Remaining.ToString(CultureInfo.InvariantCulture);
        headers[LegacyReplenishRate] = policy.Rate.ToString(CultureInfo.InvariantCulture);
        headers[LegacyBurstCapacity] = policy.Capacity.ToString(CultureInfo.InvariantCulture);
        headers[LegacyRequestedTokens] = policy.Cost.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Whole seconds, rounded up, as <c>Retry-After</c> and the draft's <c>t</c> want them.</summary>
    public static long CeilingSeconds(TimeSpan span) => (span.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;

    private static string DraftItem(string name, RateLimitDecision decision) =>
        // t: when admitted, the seconds until the bucket is full; when rejected, until this request could pass.
        string.Create(CultureInfo.InvariantCulture, $"\"{name}\";r={decision.Remaining};t={DraftSeconds(decision)}");

    private static StringValues DraftList(EndpointGates gates, ReadOnlySpan<RateLimitDecision> decisions)
    {
        var items = new string[decisions.Length];
        for (var i = 0; i < decisions.Length; i++)
        {
            items[i] = DraftItem(gates.Gates[i].Policy.Name, decisions[i]);
        }
        return string.Join(", ", items);
    }

    private static long DraftSeconds(RateLimitDecision decision) =>
        decision.IsAdmitted ? CeilingSeconds(decision.ResetAfter)
        : decision.CanEverBeAdmitted ? CeilingSeconds(decision.RetryAfter)
        : CeilingSeconds(decision.ResetAfter);
}
