using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>
/// Which server owns each bucket's keys: the one server without a cluster; on a cluster, the primary of the key's slot
/// as the cluster itself says. A failure is charged to that owner, so that it opens only the owner's circuit.
/// </summary>
/// <remarks>
/// <para>
/// The client library cannot be asked which server a key goes to: while a slot's primary is down it sends the slot's
/// commands to any connected primary, and a failure charged to that one would open a healthy primary's circuit. So the
/// owners are read from the cluster's own views: the <c>CLUSTER NODES</c> replies the client keeps for each connected
/// primary, read when it connects and again each time it reconfigures (which it does when a server fails, comes back, or
/// the cluster changes), and merged as the cluster settles conflicts: a slot goes to the claim of the highest
/// configuration epoch, so one primary that has not heard of a move yet does not undo it. A <c>MOVED</c> reply moves a
/// slot at once. A primary that stopped answering owns its slots until the cluster gives them to another; a slot that no
/// primary claims has no owner (<see langword="null"/>), and its failures are the slot's own.
/// </para>
/// <para>
/// Nothing here calls Redis: <c>CLUSTER NODES</c> of its own would need the client's admin mode, which an app should
/// not have to grant.
/// </para>
/// </remarks>
internal sealed class SlotOwners
{
    private const int Slots = 16384;

    private volatile EndPoint?[]? _owners;
    private volatile EndPoint? _standalone;

    /// <summary>Raised when the owners were read again from the client's views: some server may own nothing now.</summary>
    public event Action? Changed;

    /// <summary>
    /// The server that owns <paramref name="slot"/> (-1: the server without a cluster), or <see langword="null"/> when
    /// none does, or when that cannot be told yet.
    /// </summary>
    public EndPoint? Of(IConnectionMultiplexer connection, int slot)
    {
        if (slot < 0)
        {
            return _standalone ??= Standalone(connection);
        }
        var owners = _owners ?? Read(connection);
        return owners is null ? null : Volatile.Read(ref owners[slot]);
    }

    /// <summary>Whether <paramref name="server"/> owns a slot, as far as is known; without a cluster, whether it is the server.</summary>
    public bool Owns(IConnectionMultiplexer connection, EndPoint server)
    {
        if (_owners is not { } owners)
        {
            return Of(connection, -1) is not { } standalone || standalone.Equals(server);
        }
        foreach (var owner in owners)
        {
            if (server.Equals(owner))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Follows a connection's news that may change who owns what, for as long as it lives.</summary>
    public void Watch(IConnectionMultiplexer connection)
    {
        // The client reconfigured: it read every primary's view again.
        connection.ConfigurationChanged += (_, _) =>
        {
            _standalone = null;
            Read(connection);
            Changed?.Invoke();
        };
        // A MOVED reply names the slot's owner now.
        connection.HashSlotMoved += (_, e) =>
        {
            if (_owners is { } owners && e.HashSlot is >= 0 and < Slots)
            {
                Volatile.Write(ref owners[e.HashSlot], e.NewEndPoint);
            }
        };
    }

    private static EndPoint? Standalone(IConnectionMultiplexer connection)
    {
        if (connection.GetEndPoints() is [var only])
        {
            return only;
        }
        foreach (var server in connection.GetServers())
        {
            if (server.IsConnected && !server.IsReplica)
            {
                return server.EndPoint;
            }
        }
        return null;
    }

    // The owners as the connected primaries' views, as the client last read them, say together; null while no primary's
    // view is known (no connection yet, or not a cluster).
    private EndPoint?[]? Read(IConnectionMultiplexer connection)
    {
        var owners = new EndPoint?[Slots];
        var epochs = new long[Slots];
        var heard = false;
        foreach (var server in connection.GetServers())
        {
            if (server.IsConnected && !server.IsReplica && server.ClusterConfiguration is { } view)
            {
                foreach (var node in view.Nodes)
                {
                    heard |= Claim(node.Raw, owners, epochs);
                }
            }
        }
        if (!heard)
        {
            return _owners;
        }
        _owners = owners;
        return owners;
    }

    // Adds one node's line of a view (id, address, flags, primary, ping, pong, config epoch, link, slots...) to the map:
    // each slot a primary serves goes to it unless a claim of a higher epoch has it. Returns whether it was a primary's.
    private static bool Claim(string? line, EndPoint?[] owners, long[] epochs)
    {
        var fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields is not { Length: >= 8 } || !fields[2].Contains("master", StringComparison.Ordinal) || fields[2].Contains("noaddr", StringComparison.Ordinal)
            || !long.TryParse(fields[6], NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)
            || EndPointCollection.TryParse(fields[1].Split('@')[0]) is not { } endpoint)
        {
            return false;
        }
        for (var f = 8; f < fields.Length; f++)
        {
            // "5461-10922" or "5460"; "[5460->-id]" is a slot being moved, which stays with its owner until it has moved.
            var range = fields[f];
            var dash = range.IndexOf('-');
            if (range.StartsWith('[')
                || !int.TryParse(dash < 0 ? range : range[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
                || !int.TryParse(dash < 0 ? range : range[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var to))
            {
                continue;
            }
            for (var slot = from; slot <= to && slot < Slots; slot++)
            {
                if (owners[slot] is null || epoch > epochs[slot])
                {
                    owners[slot] = endpoint;
                    epochs[slot] = epoch;
                }
            }
        }
        return true;
    }
}
