using System.Net;
using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>
/// Which server owns each bucket's keys: the one server without a cluster; on a cluster, the primary of the key's slot
/// as the cluster itself says. A failure is charged to that owner, so that it opens only the owner's circuit.
/// </summary>
/// <remarks>
/// <para>
/// The client library cannot be asked: while a slot's primary is down it picks any connected server for the slot's
/// commands, and a failure asked of it would be charged to whichever healthy primary it happened to pick. So the owners
/// are read from the cluster's own view, <c>CLUSTER NODES</c> as a connected node answers it: first from what the
/// client fetched when it connected, then again whenever a server's connection fails or comes back and whenever the
/// client reconfigures, one refresh at a time; a <c>MOVED</c> reply moves a slot at once. A primary that stopped
/// answering owns its slots until the cluster promotes another; between the cluster marking it failed and promoting its
/// replica, the slots have no owner (<see langword="null"/>), and their failures are the slots' own.
/// </para>
/// </remarks>
internal sealed class SlotOwners
{
    private const int Slots = 16384;

    private volatile EndPoint?[]? _owners;
    private volatile EndPoint? _standalone;
    private int _refreshing;
    private int _again;

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
        var owners = _owners ?? Load(connection);
        return owners is null ? null : Volatile.Read(ref owners[slot]);
    }

    /// <summary>Follows a connection's news that may change who owns what: for as long as it lives.</summary>
    public void Watch(IConnectionMultiplexer connection)
    {
        connection.ConnectionFailed += (_, _) => Refresh(connection);
        connection.ConnectionRestored += (_, _) => Refresh(connection);
        connection.ConfigurationChanged += (_, _) =>
        {
            _standalone = null;
            Refresh(connection);
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

    // The map from what the client learned when it connected; no call is made.
    private EndPoint?[]? Load(IConnectionMultiplexer connection)
    {
        foreach (var server in connection.GetServers())
        {
            if (server.IsConnected && server.ClusterConfiguration is { } configuration)
            {
                return _owners ??= Map(configuration);
            }
        }
        return null;
    }

    // Asks a connected node for the cluster's view now, in the background; a refresh asked for while one runs runs again
    // after it, so the last view read is never older than the last news.
    private void Refresh(IConnectionMultiplexer connection)
    {
        Volatile.Write(ref _again, 1);
        if (Interlocked.CompareExchange(ref _refreshing, 1, 0) == 0)
        {
            _ = RefreshAsync(connection);
        }
    }

    private async Task RefreshAsync(IConnectionMultiplexer connection)
    {
        try
        {
            while (Interlocked.Exchange(ref _again, 0) == 1)
            {
                foreach (var server in connection.GetServers())
                {
                    if (!server.IsConnected || server.ServerType != ServerType.Cluster)
                    {
                        continue;
                    }
                    try
                    {
                        if (await server.ClusterNodesAsync().ConfigureAwait(false) is { } configuration)
                        {
                            _owners = Map(configuration);
                            break;
                        }
                    }
                    catch (Exception e) when (e is RedisException or TimeoutException)
                    {
                        // That node cannot say right now: ask the next.
                    }
                }
            }
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
        if (Volatile.Read(ref _again) == 1)
        {
            Refresh(connection); // news that came in as the last refresh ended
        }
    }

    private static EndPoint?[] Map(ClusterConfiguration configuration)
    {
        var owners = new EndPoint?[Slots];
        foreach (var node in configuration.Nodes)
        {
            if (node.IsReplica || node.EndPoint is not { } endpoint)
            {
                continue;
            }
            foreach (var range in node.Slots)
            {
                for (var slot = range.From; slot <= range.To && slot < Slots; slot++)
                {
                    owners[slot] = endpoint;
                }
            }
        }
        return owners;
    }
}
