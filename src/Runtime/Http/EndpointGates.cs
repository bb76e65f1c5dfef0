using System.Globalization;
using System.Runtime.CompilerServices;
using RateGuard.CompilerServices;

namespace RateGuard.Http;

/// <summary>The gates of one endpoint, in the order they apply, with what can be formatted ahead of time.</summary>
internal sealed class EndpointGates
{
    public EndpointGates(ConfiguredGate[] gates)
    {
        Gates = gates;
        foreach (var gate in gates)
        {
            SettlesOutcomes |= gate.Outcomes is not null;
        }
        var text = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture);
        for (var i = 0; i < gates.Length; i++)
        {
            if (i > 0)
            {
                text.AppendLiteral(", ");
            }
            AppendPolicy(ref text, gates[i].Policy);
        }
        DraftPolicyHeader = text.ToStringAndClear();
    }

    /// <summary>One item of the <c>RateLimit-Policy</c> field: the bucket's name, its quota q and window w.</summary>
    internal static void AppendPolicy(ref DefaultInterpolatedStringHandler text, TokenBucketPolicy policy)
    {
        // w: the seconds an empty bucket takes to fill, the window the quota q refers to.
        text.AppendLiteral("\"");
        text.AppendFormatted(policy.Name);
        text.AppendLiteral("\";q=");
        text.AppendFormatted(policy.Capacity);
        text.AppendLiteral(";w=");
        text.AppendFormatted((long)Math.Ceiling(policy.WindowMicroseconds / 1_000_000d));
    }

    public ConfiguredGate[] Gates { get; }

    /// <summary>Whether any gate settles after the response (<see cref="ConfiguredGate.Outcomes"/>).</summary>
    public bool SettlesOutcomes { get; }

    /// <summary>The <c>RateLimit-Policy</c> field value, which never changes.</summary>
    public string DraftPolicyHeader { get; }
}
