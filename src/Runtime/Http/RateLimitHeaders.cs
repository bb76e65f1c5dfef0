using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace RateGuard.Http;

/// <summary>Writes the rate-limit headers of a response.</summary>
internal static class RateLimitHeaders
{
    /// <summary>Writes the headers for the decisions made so far, in gate order.</summary>
    public static void Write(HttpResponse response, RateLimitHeaderStyle style, EndpointGates gates, ReadOnlySpan<GateDecision> decisions)
    {
        if (style == RateLimitHeaderStyle.None || decisions.IsEmpty)
        {
            return;
        }
        var headers = response.Headers;
        if (style == RateLimitHeaderStyle.Draft)
        {
            headers[RateLimitHeaderNames.DraftPolicy] = AllAsDeclared(decisions) ? gates.DraftPolicyHeader : DraftPolicy(decisions);
            headers[RateLimitHeaderNames.Draft] = decisions.Length == 1 ? DraftItem(decisions[0]) : DraftList(decisions);
            return;
        }

        // The legacy headers describe a single bucket: report the one closest to rejecting.
        var tightest = 0;
        for (var i = 1; i < decisions.Length; i++)
        {
            if (decisions[i].Decision.Remaining < decisions[tightest].Decision.Remaining || !decisions[i].Decision.IsAdmitted)
            {
                tightest = i;
            }
        }
        var policy = decisions[tightest].Policy;
        headers[RateLimitHeaderNames.LegacyRemaining] = decisions[tightest].Decision.Remaining.ToString(CultureInfo.InvariantCulture);
        headers[RateLimitHeaderNames.LegacyReplenishRate] = policy.Rate.ToString(CultureInfo.InvariantCulture);
        headers[RateLimitHeaderNames.LegacyBurstCapacity] = policy.Capacity.ToString(CultureInfo.InvariantCulture);
        headers[RateLimitHeaderNames.LegacyRequestedTokens] = policy.Cost.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Whole seconds, rounded up, as <c>Retry-After</c> and the draft's <c>t</c> want them.</summary>
    public static long CeilingSeconds(TimeSpan span) => (span.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;

    // Whether every decision was made by its gate's own policy, so the policy field formatted ahead of time holds.
    private static bool AllAsDeclared(ReadOnlySpan<GateDecision> decisions)
    {
        foreach (var decision in decisions)
        {
            if (!ReferenceEquals(decision.Policy, decision.Gate.Policy))
            {
                return false;
            }
        }
        return true;
    }

    // The policy field of a request decided by a plan's or an override's limits, which name its own quota and window.
    private static string DraftPolicy(ReadOnlySpan<GateDecision> decisions)
    {
        if (decisions.Length == 1)
        {
            return s_policyFields.GetValue(decisions[0].Policy, s_formatPolicy);
        }
        var text = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[256]);
        for (var i = 0; i < decisions.Length; i++)
        {
            if (i > 0)
            {
                text.AppendLiteral(", ");
            }
            EndpointGates.AppendPolicy(ref text, decisions[i].Policy);
        }
        return text.ToStringAndClear();
    }

    // The field of one plan's or override's policy, formatted the first time a request is decided by it: the policy
    // object lives as long as the configuration or the override that made it, so a client on a plan costs a lookup
    // here rather than a string per request, and the entry goes when the policy does.
    private static readonly ConditionalWeakTable<TokenBucketPolicy, string> s_policyFields = new();
    private static readonly ConditionalWeakTable<TokenBucketPolicy, string>.CreateValueCallback s_formatPolicy = static policy =>
    {
        var text = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[128]);
        EndpointGates.AppendPolicy(ref text, policy);
        return text.ToStringAndClear();
    };

    // One string per header, written straight from the decisions: no string per item, no array of them.
    private static string DraftItem(GateDecision item)
    {
        var text = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[128]);
        Append(ref text, item);
        return text.ToStringAndClear();
    }

    private static string DraftList(ReadOnlySpan<GateDecision> decisions)
    {
        var text = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[256]);
        for (var i = 0; i < decisions.Length; i++)
        {
            if (i > 0)
            {
                text.AppendLiteral(", ");
            }
            Append(ref text, decisions[i]);
        }
        return text.ToStringAndClear();
    }

    // t: the seconds until the bucket is full; for a bucket that rejected the request, until it could pass.
    private static void Append(ref DefaultInterpolatedStringHandler text, GateDecision item)
    {
        text.AppendLiteral("\"");
        text.AppendFormatted(item.Policy.Name);
        text.AppendLiteral("\";r=");
        text.AppendFormatted(item.Decision.Remaining);
        text.AppendLiteral(";t=");
        text.AppendFormatted(DraftSeconds(item.Decision));
    }

    private static long DraftSeconds(RateLimitDecision decision) =>
        decision.IsAdmitted || decision.RetryAfter == TimeSpan.Zero || !decision.CanEverBeAdmitted
            ? CeilingSeconds(decision.ResetAfter)
            : CeilingSeconds(decision.RetryAfter);
}
