using System.Diagnostics.Metrics;

namespace RateGuard.Diagnostics;

/// <summary>
/// The <c>RateGuard</c> meter: decisions by bucket and result, store latency, and the circuit's state. Instrument and
/// tag names follow the style of ASP.NET Core's <c>Microsoft.AspNetCore.RateLimiting</c> meter.
/// </summary>
public sealed class TokenBucketMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "RateGuard";

    /// <summary>Decisions, tagged <c>rateguard.bucket</c> and <c>rateguard.result</c>.</summary>
    public const string DecisionsInstrument = "rateguard.decisions";

    /// <summary>Seconds one store call took, tagged <c>rateguard.store</c> and <c>rateguard.outcome</c>.</summary>
    public const string StoreDurationInstrument = "rateguard.store.duration";

    /// <summary>Each store server's circuit, tagged <c>rateguard.server</c>: 0 closed, 1 open, 2 half-open.</summary>
    public const string BreakerStateInstrument = "rateguard.breaker.state";

    private readonly Meter _meter;
    private readonly Counter<long> _decisions;
    private readonly Histogram<double> _storeDuration;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public TokenBucketMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _decisions = _meter.CreateCounter<long>(DecisionsInstrument, "{decision}", "Token-bucket decisions by bucket and result.");
        _storeDuration = _meter.CreateHistogram<double>(StoreDurationInstrument, "s", "How long one token-bucket store call took.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
    }

    internal void Decision(string bucket, string result)
    {
        if (_decisions.Enabled)
        {
            _decisions.Add(1, new KeyValuePair<string, object?>("rateguard.bucket", bucket), new KeyValuePair<string, object?>("rateguard.result", result));
        }
    }

    internal void StoreDuration(TimeSpan duration, string store, string outcome)
    {
        if (_storeDuration.Enabled)
        {
            _storeDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("rateguard.store", store), new KeyValuePair<string, object?>("rateguard.outcome", outcome));
        }
    }

    internal void ObserveBreakers(Func<IEnumerable<Measurement<int>>> states) =>
        _meter.CreateObservableGauge(BreakerStateInstrument, states, "{state}", "Each store server's circuit: 0 closed, 1 open, 2 half-open.");

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}

/// <summary>The values of the <c>rateguard.result</c> tag.</summary>
public static class DecisionResults
{
    /// <summary>The store admitted the request.</summary>
    public const string Admitted = "admitted";
    /// <summary>The store rejected the request.</summary>
    public const string Rejected = "rejected";
    /// <summary>The store could not decide; the request was admitted (failure mode Open).</summary>
    public const string FailedOpen = "failed_open";
    /// <summary>The store could not decide; the request got 503 (failure mode Closed).</summary>
    public const string FailedClosed = "failed_closed";
    /// <summary>A remembered rejection rejected the request without calling Redis.</summary>
    public const string DenyCache = "deny_cache";
    /// <summary>The store could not decide; the local fallback admitted the request.</summary>
    public const string FallbackAdmitted = "fallback_admitted";
    /// <summary>The store could not decide; the local fallback rejected the request.</summary>
    public const string FallbackRejected = "fallback_rejected";
}
