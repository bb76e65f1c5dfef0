using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Diagnostics;

namespace RateGuard.Integration.Tests.Resilience;

/// <summary>Counts the measurements one instrument of an app's RateGuard meter takes from now on, by the value of one tag.</summary>
public sealed class MeterCounts : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, int> _byValue = [];

    private MeterCounts(IServiceProvider services, string instrumentName, string tagName)
    {
        var meters = services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Meter.Name == TokenBucketMetrics.MeterName && instrument.Name == instrumentName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) => Count(tags, tagName));
        _listener.SetMeasurementEventCallback<long>((_, _, tags, _) => Count(tags, tagName));
        _listener.Start();
    }

    /// <summary>The store calls the limiter makes, by outcome (success, late, timeout, failure).</summary>
    public static MeterCounts StoreCalls(ResilienceApp app) => new(app.App.Services, TokenBucketMetrics.StoreDurationInstrument, TokenBucketMetrics.OutcomeTag);

    /// <summary>The decisions the limiter counts, by result (acquired, endpoint_limiter, deny_cache...).</summary>
    public static MeterCounts Decisions(ResilienceApp app) => Decisions(app.App.Services);

    /// <summary>The decisions the limiter of the app whose services are <paramref name="services"/> counts, by result.</summary>
    public static MeterCounts Decisions(IServiceProvider services) => new(services, TokenBucketMetrics.RequestsInstrument, TokenBucketMetrics.ResultTag);

    /// <summary>How many measurements carried each value of the tag.</summary>
    public IReadOnlyDictionary<string, int> ByValue
    {
        get
        {
            lock (_byValue)
            {
                return new Dictionary<string, int>(_byValue);
            }
        }
    }

    public int this[string value] => ByValue.GetValueOrDefault(value);

    public int Total => ByValue.Values.Sum();

    private void Count(ReadOnlySpan<KeyValuePair<string, object?>> tags, string tagName)
    {
        var value = "";
        foreach (var tag in tags)
        {
            if (tag.Key == tagName)
            {
                value = tag.Value as string ?? "";
            }
        }
        lock (_byValue)
        {
            _byValue[value] = _byValue.GetValueOrDefault(value) + 1;
        }
    }

    public void Dispose() => _listener.Dispose();
}
