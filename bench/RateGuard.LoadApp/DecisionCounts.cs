using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace RateGuard.LoadApp;

/// <summary>
/// Counts RateGuard's decisions by bucket and result in-process, for the fault harness: GET /stats answers them as
/// "bucket result count" lines, and DELETE /stats starts the counts afresh.
/// </summary>
public sealed class DecisionCounts : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Bucket, string Result), long> _counts = new();

    public DecisionCounts()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "RateGuard" && instrument.Name is "rateguard.rate_limiting.requests" or "rateguard.rate_limiting.store.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string bucket = "", result = "";
            foreach (var tag in tags)
            {
                if (tag.Key == "rateguard.rate_limiting.policy")
                {
                    bucket = tag.Value as string ?? "";
                }
                else if (tag.Key == "rateguard.rate_limiting.result")
                {
                    result = tag.Value as string ?? "";
                }
            }
            _counts.AddOrUpdate((bucket, result), static (_, value) => value, static (_, total, value) => total + value, value);
        });
        // Store calls by outcome (success, late, timeout, failure), under the bucket name "store".
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
            _counts.AddOrUpdate(("store", outcome), 1, (_, total) => total + 1);
        });
        _listener.Start();
    }

    public string Report() => string.Join("\n", _counts.OrderBy(c => c.Key).Select(c => $"{c.Key.Bucket} {c.Key.Result} {c.Value}")) + "\n";

    public void Clear() => _counts.Clear();

    public void Dispose() => _listener.Dispose();
}
