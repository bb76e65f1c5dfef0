using Microsoft.Extensions.Logging;
using RateGuard.Diagnostics;

namespace RateGuard.Clients;

/// <summary>
/// Keeps this instance's <see cref="ClientOverrides"/> equal to the store's: at startup, so that overrides survive a
/// restart, and then by reading the store's version every <see cref="Interval"/> and the overrides themselves only
/// when it changed, so an override set on any instance applies on every one within a second. A write made through
/// this instance is applied here at once (<see cref="RefreshAsync"/>); one made through another is usually heard of
/// at once too (<see cref="IClientOverrideStore.OnChanged"/>), and the poll is what makes sure.
/// </summary>
/// <remarks>
/// While the store cannot be read, the overrides known last stay in force, and the failure is logged once, when it has
/// lasted <see cref="FailureGrace"/> (so that a connection still being made at startup, or a blip, is not), and its end
/// once.
/// Overrides that expire are dropped from the copy here as they do, and from the store by its next write.
/// </remarks>
internal sealed class ClientOverrideSync : IDisposable
{
    /// <summary>How often the store's version is read: one small read, four times a second per instance.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>How long the store may fail to answer before the failure is logged.</summary>
    public static readonly TimeSpan FailureGrace = TimeSpan.FromSeconds(1);

    /// <summary>How long startup waits for the overrides: a store that is slow to answer does not hold it longer.</summary>
    public static readonly TimeSpan StartupWait = TimeSpan.FromSeconds(2);

    private readonly IClientOverrideStore _store;
    private readonly ClientOverrides _table;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private readonly IDisposable _nudges;
    // One load at a time, so that an older read can never replace a newer one.
    private readonly SemaphoreSlim _loading = new(1, 1);
    private long _version = -1; // none read yet: the first poll loads
    private long _soonestExpiry = long.MaxValue; // UTC ticks
    private DateTimeOffset? _failingSince;
    private bool _failureLogged;
    private int _polling;
    private int _pollAgain;
    private long _loadedAt; // when the last load began, as a TimeProvider timestamp

    public ClientOverrideSync(IClientOverrideStore store, ClientOverrides table, TimeProvider time, ILogger logger)
    {
        _store = store;
        _table = table;
        _time = time;
        _logger = logger;
        _timer = time.CreateTimer(static state => ((ClientOverrideSync)state!).Poll(), this, TimeSpan.Zero, Interval);
        _nudges = store.OnChanged(Nudged);
    }

    /// <summary>Where the overrides are kept.</summary>
    public IClientOverrideStore Store => _store;

    /// <summary>
    /// Reads the overrides once at startup, before the first request, when the store answers within
    /// <see cref="StartupWait"/>; when it does not, the polls read them as soon as it does.
    /// </summary>
    public async Task StartAsync()
    {
        try
        {
            await RefreshAsync().WaitAsync(StartupWait, _time).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Operations.TokenBucketStoreUnavailableException or TimeoutException)
        {
            // The polls go on; their failure is logged if it lasts.
        }
    }


    /// <summary>Reads the overrides from the store and applies them here now: after a write made through this instance.</summary>
    /// <exception cref="Operations.TokenBucketStoreUnavailableException">The store could not be read.</exception>
    public async Task RefreshAsync()
    {
        await _loading.WaitAsync().ConfigureAwait(false);
        try
        {
            Volatile.Write(ref _loadedAt, _time.GetTimestamp());
            Apply(await _store.LoadAsync().ConfigureAwait(false));
        }
        finally
        {
            _loading.Release();
        }
    }

    // Another instance changed the overrides. Each change makes every instance read them all again, so a burst of them
    // (a script setting many) is read at most once per interval: a nudge soon after a load is left to the next tick.
    private void Nudged()
    {
        if (_time.GetElapsedTime(Volatile.Read(ref _loadedAt)) >= Interval)
        {
            Poll();
        }
    }

    // One poll at a time. Whatever asks for one while a poll waits for the store gets another right after it: a nudge
    // may be about a change that poll read too early to see.
    private void Poll()
    {
        if (Interlocked.Exchange(ref _polling, 1) == 0)
        {
            _ = PollAsync(); // never throws
        }
        else
        {
            Volatile.Write(ref _pollAgain, 1);
        }
    }

    private async Task PollAsync()
    {
        try
        {
            if (await _store.VersionAsync().ConfigureAwait(false) != Interlocked.Read(ref _version))
            {
                await RefreshAsync().ConfigureAwait(false);
            }
            else if (_time.GetUtcNow().UtcTicks >= Volatile.Read(ref _soonestExpiry))
            {
                await DropExpiredAsync().ConfigureAwait(false);
            }
            Answered();
        }
        catch (Exception e)
        {
            Failed(e);
        }
        finally
        {
            Volatile.Write(ref _polling, 0);
            if (Interlocked.Exchange(ref _pollAgain, 0) == 1)
            {
                Poll();
            }
        }
    }

    // The requests already ignore an expired override; dropping it keeps the count and the memory to those in force.
    private async Task DropExpiredAsync()
    {
        await _loading.WaitAsync().ConfigureAwait(false);
        try
        {
            Replace(_table.All);
        }
        finally
        {
            _loading.Release();
        }
    }

    private void Apply(StoredClientOverrides stored)
    {
        Replace(stored.Entries);
        Interlocked.Exchange(ref _version, stored.Version);
    }

    private void Replace(IEnumerable<ClientOverride> entries)
    {
        var now = _time.GetUtcNow();
        var current = new List<ClientOverride>();
        var soonest = long.MaxValue;
        foreach (var entry in entries)
        {
            if (entry.ExpiresAt > now)
            {
                current.Add(entry);
                soonest = Math.Min(soonest, entry.ExpiresAt.UtcTicks);
            }
        }
        _table.Replace(current);
        Volatile.Write(ref _soonestExpiry, soonest);
    }

    private void Answered()
    {
        _failingSince = null;
        if (_failureLogged)
        {
            _failureLogged = false;
            Log.ClientOverridesRestored(_logger, _table.Count);
        }
    }

    private void Failed(Exception e)
    {
        var now = _time.GetUtcNow();
        _failingSince ??= now;
        if (!_failureLogged && now - _failingSince >= FailureGrace)
        {
            _failureLogged = true;
            Log.ClientOverridesUnavailable(_logger, _table.Count, e.GetBaseException().Message);
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _nudges.Dispose();
    }
}
