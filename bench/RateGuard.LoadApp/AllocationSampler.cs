using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Text;

namespace RateGuard.LoadApp;

/// <summary>
/// Where the bytes go, by type: the runtime's allocation ticks (one event about every 100 KB allocated, naming the type
/// whose allocation crossed the mark), summed by type. A sample, proportional to bytes over a long enough run.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: allocation ticks at verbose
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.Payload is null)
        {
            return;
        }
        var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a]) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, total) => total + amount);
    }

    public void Clear() => _bytes.Clear();

    public string Report()
    {
        var total = Math.Max(1, _bytes.Values.Sum());
        var report = new StringBuilder();
        foreach (var (type, bytes) in _bytes.OrderByDescending(p => p.Value).Take(40))
        {
            report.Append($"{100.0 * bytes / total,6:F1}%  {type}\n");
        }
        return report.ToString();
    }
}
