using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Diagnostics;

namespace RateGuard.Integration.Tests.Resilience;

/// <summary>Counts the store calls one app's limiter makes from now on, by outcome, from its own meter.</summary>
public sealed class StoreCalls : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, int> _byOutcome = [];

    public StoreCalls(ResilienceApp app)
    {
        var meters = app.App.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Meter.Name == TokenBucketMetrics.MeterName
                && instrument.Name == TokenBucketMetrics.StoreDurationInstrument)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            var outcome = "";
            foreach (var tag in tags)
            {
                if (tag.Key == "rateguard.rate_limiting.store.outcome")
                {
                    outcome = tag.Value as string ?? "";
                }
            }
            lock (_byOutcome)
            {
                _byOutcome[outcome] = _byOutcome.GetValueOrDefault(outcome) + 1;
            }
        });
        _listener.Start();
    }

    /// <summary>How many calls ended with each outcome (success, late, timeout, failure).</summary>
    public IReadOnlyDictionary<string, int> ByOutcome
    {
        get
        {
            lock (_byOutcome)
            {
                return new Dictionary<string, int>(_byOutcome);
            }
        }
    }

    public int Total => ByOutcome.Values.Sum();

    public void Dispose() => _listener.Dispose();
}
