using System.Diagnostics;

namespace RateGuard.Runtime.Tests.Infrastructure;

/// <summary>Waits for something that happens in the background (a heartbeat, a reconnect), with a generous limit.</summary>
public static class Eventually
{
    public static Task Until(Func<bool> condition, string what, int seconds = 20) =>
        Until(() => Task.FromResult(condition()), what, seconds);

    /// <summary>Waits for a condition that has to ask something to be known.</summary>
    public static async Task Until(Func<Task<bool>> condition, string what, int seconds = 20)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(seconds), $"Not within {seconds} s: {what}.");
            await Task.Delay(50);
        }
    }
}
