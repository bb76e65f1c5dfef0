using System.Globalization;
using System.Text;
using RateGuard.CompilerServices;

namespace RateGuard.Http;

/// <summary>The gates of one endpoint, in the order they apply, with what can be formatted ahead of time.</summary>
internal sealed class EndpointGates
{
    public EndpointGates(ConfiguredGate[] gates)
    {
        Gates = gates;
        var policy = new StringBuilder();
        foreach (var gate in gates)
        {
            var p = gate.Policy;
            if (policy.Length > 0)
            {
                policy.Append(", ");
            }
            // w: the seconds an empty bucket takes to fill, the window the quota q refers to.
            var window = (long)Math.Ceiling(p.WindowMicroseconds / 1_000_000d);
            policy.Append('"').Append(p.Name).Append("\";q=").Append(p.Capacity.ToString(CultureInfo.InvariantCulture))
                  .Append(";w=").Append(window.ToString(CultureInfo.InvariantCulture));
        }
        DraftPolicyHeader = policy.ToString();
    }

    public ConfiguredGate[] Gates { get; }

    /// <summary>The <c>RateLimit-Policy</c> field value, which never changes.</summary>
    public string DraftPolicyHeader { get; }
}
