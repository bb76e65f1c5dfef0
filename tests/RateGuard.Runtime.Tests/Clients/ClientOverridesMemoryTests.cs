using System.Globalization;
using RateGuard.Clients;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Runtime.Tests.Clients;

/// <summary>
/// What the default bound, 10,000 overrides, costs each instance: the figure docs/operations.md gives. Measured alone,
/// so that no other test's allocations land in it.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class ClientOverridesMemoryTests(ITestOutputHelper output)
{
    private const int Count = 10_000;

    [Fact]
    public void Ten_thousand_overrides_with_realistic_client_values_take_under_3_MB_of_one_instance()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var table = new ClientOverrides(TimeProvider.System);
        table.Replace(Realistic());

        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var held = GC.GetTotalMemory(forceFullCollection: true) - before;
        GC.KeepAlive(table);

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Count:#,0} overrides: {held / 1024d / 1024:F2} MiB held ({held / (double)Count:F0} B each), {allocated / 1024d / 1024:F2} MiB allocated to build them"));
        Assert.Equal(Count, table.Count);
        Assert.InRange(held, 1, 3 * 1024 * 1024);
    }

    // As a store's read makes them: four buckets, each name shared, and client values of the usual kinds (addresses,
    // API keys, user names), each a string of its own.
    private static List<ClientOverride> Realistic()
    {
        string[] buckets = ["GET /items/{id}", "POST /orders", "search", "/reports"];
        var expires = DateTimeOffset.UtcNow.AddHours(1);
        var overrides = new List<ClientOverride>(Count);
        for (var i = 0; i < Count; i++)
        {
            var key = (i % 3) switch
            {
                0 => string.Create(CultureInfo.InvariantCulture, $"198.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"),
                1 => "sk_live_" + Guid.NewGuid().ToString("N")[..24],
                _ => string.Create(CultureInfo.InvariantCulture, $"customer-{i:D6}@example.com"),
            };
            overrides.Add(new ClientOverride(buckets[i % buckets.Length], key, 1_000, 100, expires));
        }
        return overrides;
    }
}
