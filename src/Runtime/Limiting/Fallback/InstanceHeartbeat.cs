using Microsoft.Extensions.Logging;
using RateGuard.Stores;

namespace RateGuard.Limiting.Fallback;

/// <summary>
/// Tells Redis once a second that this instance is alive and learns how many are, so the local fallback knows its
/// share of every limit without being told, and keeps knowing as the deployment scales.
/// </summary>
internal sealed class InstanceHeartbeat : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>How long one heartbeat counts: an instance that stops is no longer counted after this.</summary>
    public static readonly TimeSpan Lasts = TimeSpan.FromSeconds(5);

    private readonly RedisTokenBucketStore _store;
    private readonly LocalFallback _fallback;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private int _beating;

    public InstanceHeartbeat(RedisTokenBucketStore store, LocalFallback fallback, TimeProvider time, ILogger logger)
    {
        _store = store;
        _fallback = fallback;
        _logger = logger;
        _timer = time.CreateTimer(static state => ((InstanceHeartbeat)state!).Beat(), this, TimeSpan.Zero, Interval);
    }

    // One at a time: while a beat waits for its answer, the next ones are skipped.
    private void Beat()
    {
        if (Interlocked.Exchange(ref _beating, 1) == 0)
        {
            _ = BeatAsync(); // never throws
        }
    }

    private async Task BeatAsync()
    {
        try
        {
            _fallback.Learn(await _store.HeartbeatAsync(_instance, Lasts).ConfigureAwait(false));
        }
        catch (Exception e)
        {
            // Redis is away: the count learned last stands, which is what the fallback needs meanwhile.
            Diagnostics.Log.HeartbeatFailed(_logger, e.Message);
        }
        finally
        {
            Volatile.Write(ref _beating, 0);
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        // Leave at once rather than be counted for another few seconds; best effort, Redis may be gone.
        _ = _store.HeartbeatAsync(_instance, Lasts, leave: true).ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
    }
}
