using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Logging;
using RateGuard.Diagnostics;
using RateGuard.Stores;

namespace RateGuard.Limiting.Circuits;

/// <summary>
/// One circuit per store server, so that a fault stays with the server it happened on: a request's failure is charged to
/// the server that owns its buckets' keys (on a cluster, the primary of their slot as the cluster says, or the slot
/// itself while no primary serves it), and only the buckets there get their failure mode.
/// </summary>
/// <remarks>
/// A store with one server, or one that is not Redis, has the one circuit named after the store, which is also what a
/// request gets before the first connection says where its keys live.
/// </remarks>
internal sealed class StoreCircuits
{
    private readonly StoreNode _store;
    private readonly ConcurrentDictionary<EndPoint, StoreNode> _servers = new();
    private readonly ConcurrentDictionary<int, StoreNode> _unownedSlots = new();
    private readonly int _threshold;
    private readonly TimeSpan _breakDuration;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <param name="storeName">The circuit's name for a store that has no servers of its own to name (not Redis, or not yet connected).</param>
    /// <param name="threshold">Consecutive failures that open a circuit.</param>
    /// <param name="breakDuration">How long an open circuit stays open before one request probes.</param>
    /// <param name="time">The clock of the breakers.</param>
    /// <param name="logger">Where openings and closings are said.</param>
    public StoreCircuits(string storeName, int threshold, TimeSpan breakDuration, TimeProvider time, ILogger logger)
    {
        _threshold = threshold;
        _breakDuration = breakDuration;
        _time = time;
        _logger = logger;
        _store = Create(storeName);
    }

    /// <summary>How long a circuit stays open before a probe: what a request refused while it is open is told to wait.</summary>
    public TimeSpan BreakDuration => _breakDuration;

    /// <summary>The circuit of a store without servers of its own.</summary>
    public StoreNode Store => _store;

    /// <summary>
    /// The circuit of the server that owns a key: <paramref name="owner"/>; while no server owns its slot
    /// (<paramref name="owner"/> is <see langword="null"/> and <paramref name="slot"/> is one), the slot's own circuit;
    /// without either, the store's.
    /// </summary>
    public StoreNode Of(EndPoint? owner, int slot)
    {
        if (owner is not null)
        {
            return _servers.TryGetValue(owner, out var server) ? server : _servers.GetOrAdd(owner, static (e, circuits) => circuits.Create(RedisTokenBucketStore.Format(e)), this);
        }
        if (slot >= 0)
        {
            return _unownedSlots.TryGetValue(slot, out var unowned) ? unowned : _unownedSlots.GetOrAdd(slot, static (s, circuits) => circuits.Create($"slot {s} (no primary)"), this);
        }
        return _store;
    }

    /// <summary>Each circuit by its server's name; the store's alone while no server has been met.</summary>
    public IEnumerable<(string Server, CircuitState State)> States
    {
        get
        {
            if (_servers.IsEmpty && _unownedSlots.IsEmpty)
            {
                yield return (_store.Name, _store.Breaker.State);
                yield break;
            }
            foreach (var node in _servers.Values)
            {
                yield return (node.Name, node.Breaker.State);
            }
            foreach (var node in _unownedSlots.Values)
            {
                yield return (node.Name, node.Breaker.State);
            }
        }
    }

    /// <summary>The worst state among the circuits: open before half-open before closed.</summary>
    public CircuitState Worst
    {
        get
        {
            var worst = CircuitState.Closed;
            foreach (var (_, state) in States)
            {
                if (state == CircuitState.Open || (state == CircuitState.HalfOpen && worst == CircuitState.Closed))
                {
                    worst = state;
                }
            }
            return worst;
        }
    }

    /// <summary>The circuits as the meter reads them: one measurement per server, tagged with its name.</summary>
    public IEnumerable<Measurement<int>> Measurements()
    {
        foreach (var (server, state) in States)
        {
            yield return new Measurement<int>((int)state, new KeyValuePair<string, object?>(TokenBucketMetrics.ServerTag, server));
        }
    }

    /// <summary>
    /// Drops the circuits of servers that own no key any more (a primary replaced in a failover, now gone or a replica)
    /// and of slots that have an owner again: nothing will call through them, so an open one would stay open for good,
    /// and the health check and the meter would report a fault that is over.
    /// </summary>
    public void Retire(Func<EndPoint, bool> owns, Func<int, bool> owned)
    {
        foreach (var server in _servers.Keys)
        {
            if (!owns(server))
            {
                _servers.TryRemove(server, out _);
            }
        }
        foreach (var slot in _unownedSlots.Keys)
        {
            if (owned(slot))
            {
                _unownedSlots.TryRemove(slot, out _);
            }
        }
    }

    /// <summary>A server's connection was made again: its clock may be another machine's now.</summary>
    public void Restored(EndPoint server) => Of(server, -1).Restored();

    private StoreNode Create(string name)
    {
        var breaker = new CircuitBreaker(_threshold, _breakDuration, _time);
        var node = new StoreNode(name, breaker);
        breaker.Changed += state =>
        {
            if (state == CircuitState.Open)
            {
                Log.CircuitOpened(_logger, name, _breakDuration);
            }
            else
            {
                Log.CircuitClosed(_logger, name, node.Failures.TakeSuppressed());
            }
        };
        return node;
    }
}
