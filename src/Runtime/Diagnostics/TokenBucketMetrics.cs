using System.Diagnostics.Metrics;

namespace RateGuard.Diagnostics;

/// <summary>
/// The <c>RateGuard</c> meter. Its request counter has the shape of ASP.NET Core's <c>Microsoft.AspNetCore.RateLimiting</c>
/// meter (<c>aspnetcore.rate_limiting.requests</c>: unit <c>{request}</c>, a policy tag and a result tag whose values
/// include <c>acquired</c>, <c>endpoint_limiter</c> and <c>request_canceled</c>), under names of its own: an app that
/// uses RateGuard through ASP.NET Core's rate-limiting middleware has both meters count the same request, and one
/// series for both would count it twice.
/// </summary>
public sealed class TokenBucketMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "RateGuard";

    /// <summary>
    /// Requests decided, per bucket: tagged <see cref="PolicyTag"/> (the bucket's name) and <see cref="ResultTag"/>
    /// (one of <see cref="RequestResults"/>). A request limited by several buckets counts once on each bucket that
    /// admitted it, or once on each bucket that rejected it.
    /// </summary>
    public const string RequestsInstrument = "rateguard.rate_limiting.requests";

    /// <summary>Seconds one store call took, tagged <see cref="StoreTag"/> and <see cref="OutcomeTag"/>.</summary>
    public const string StoreDurationInstrument = "rateguard.rate_limiting.store.duration";

    /// <summary>Each store server's circuit, tagged <see cref="ServerTag"/>: 0 closed, 1 open, 2 half-open.</summary>
    public const string CircuitStateInstrument = "rateguard.rate_limiting.store.circuit_state";

    /// <summary>
    /// How many app instances share the limits, as this instance counts them: each limit's share while the store cannot
    /// decide (failure mode Open) is its capacity and rate divided by this. Configured (<c>InstanceCount</c>), or learned
    /// from the instances' heartbeats in Redis.
    /// </summary>
    public const string InstancesInstrument = "rateguard.rate_limiting.instances";

    /// <summary>
    /// How many client overrides (an operator's capacity and rate for one client on one bucket) this instance holds and
    /// applies: those the store holds that have not expired, as this instance last read them.
    /// </summary>
    public const string OverridesInstrument = "rateguard.rate_limiting.overrides";

    /// <summary>The bucket's name (ASP.NET Core: <c>aspnetcore.rate_limiting.policy</c>).</summary>
    public const string PolicyTag = "rateguard.rate_limiting.policy";

    /// <summary>How the request was decided (ASP.NET Core: <c>aspnetcore.rate_limiting.result</c>).</summary>
    public const string ResultTag = "rateguard.rate_limiting.result";

    /// <summary>The store: <c>redis</c>, <c>memory</c> or <c>custom</c>.</summary>
    public const string StoreTag = "rateguard.rate_limiting.store";

    /// <summary>How a store call ended: <c>success</c>, <c>late</c>, <c>timeout</c> or <c>failure</c>.</summary>
    public const string OutcomeTag = "rateguard.rate_limiting.store.outcome";

    /// <summary>The server, as <c>host:port</c>.</summary>
    public const string ServerTag = "rateguard.rate_limiting.store.server";

    /// <summary>
    /// Tokens given back to buckets or charged to them after their requests ran: refunds of responses a bucket does not
    /// count, and costs reported after the fact.
    /// </summary>
    public const string AdjustmentsInstrument = "rateguard.rate_limiting.adjustments";

    /// <summary>Whether tokens were given back (<c>refunded</c>) or charged after the fact (<c>charged</c>).</summary>
    public const string AdjustmentTag = "rateguard.rate_limiting.adjustment";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _storeDuration;
    private readonly Counter<long> _adjustments;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>.</summary>
    public TokenBucketMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _requests = _meter.CreateCounter<long>(RequestsInstrument, "{request}", "Requests that token buckets decided, by bucket and result.");
        _storeDuration = _meter.CreateHistogram<double>(StoreDurationInstrument, "s", "How long one token-bucket store call took.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        _adjustments = _meter.CreateCounter<long>(AdjustmentsInstrument, "{token}", "Tokens given back to buckets, or charged to them, after their requests ran.");
    }

    internal void Adjusted(string bucket, long tokens)
    {
        if (_adjustments.Enabled && tokens != 0)
        {
            _adjustments.Add(Math.Abs(tokens), new KeyValuePair<string, object?>(PolicyTag, bucket), new KeyValuePair<string, object?>(AdjustmentTag, tokens < 0 ? "refunded" : "charged"));
        }
    }

    internal void Request(string bucket, string result)
    {
        if (_requests.Enabled)
        {
            _requests.Add(1, new KeyValuePair<string, object?>(PolicyTag, bucket), new KeyValuePair<string, object?>(ResultTag, result));
        }
    }

    internal void StoreDuration(TimeSpan duration, string store, string outcome)
    {
        if (_storeDuration.Enabled)
        {
            _storeDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>(StoreTag, store), new KeyValuePair<string, object?>(OutcomeTag, outcome));
        }
    }

    internal void ObserveCircuits(Func<IEnumerable<Measurement<int>>> states) =>
        _meter.CreateObservableGauge(CircuitStateInstrument, states, "{state}", "Each store server's circuit: 0 closed, 1 open, 2 half-open.");

    internal void ObserveInstances(Func<int> instances) =>
        _meter.CreateObservableGauge(InstancesInstrument, instances, "{instance}", "How many app instances share the limits: each enforces its share while the store cannot decide.");

    internal void ObserveOverrides(Func<int> overrides) =>
        _meter.CreateObservableGauge(OverridesInstrument, overrides, "{override}", "How many client overrides this instance applies.");

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
