using System.Diagnostics;

namespace RateGuard.Runtime.Tests.Infrastructure;

/// <summary>Waits for something that happens in the background (a heartbeat, a reconnect), with a generous limit.</summary>
public static class Eventually
{
    public static async Task Until(Func<bool> condition, string what, int seconds = 20)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(seconds), $"Not within {seconds} s: {what}.");
            await Task.Delay(50);
        }
    }
}
