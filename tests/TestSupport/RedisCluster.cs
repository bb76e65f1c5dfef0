using System.Diagnostics;
using StackExchange.Redis;

namespace RateGuard.TestSupport;

/// <summary>
/// A real three-node Redis Cluster on loopback: three <c>redis-server --cluster-enabled yes</c> processes joined with
/// <c>redis-cli --cluster create</c>. Started once for the tests that share it, and killed afterwards.
/// </summary>
public sealed class RedisCluster : IDisposable
{
    public RedisCluster()
        : this(replicas: 0, [])
    {
    }

    /// <summary>Three primaries, each with <paramref name="replicas"/> replicas, started with <paramref name="extraArguments"/>.</summary>
    public static RedisCluster Start(int replicas, params string[] extraArguments) => new(replicas, extraArguments);

    private RedisCluster(int replicas, string[] extraArguments)
    {
        var started = new List<RedisServer>();
        Nodes = [];
        try
        {
            // One at a time inside the try, so a node that fails to start does not leave the others running.
            for (var i = 0; i < 3 * (1 + replicas); i++)
            {
                // A replica's first sync starts at once rather than after the default 5 s wait for more replicas.
                started.Add(RedisServer.Start(["--cluster-enabled", "yes", "--cluster-node-timeout", "5000", "--repl-diskless-sync-delay", "0", .. extraArguments]));
            }
            Nodes = [.. started];
            RedisCli(["--cluster", "create", .. Nodes.Select(n => $"127.0.0.1:{n.Port}"), "--cluster-replicas", replicas.ToString(), "--cluster-yes"]);
            WaitUntilOk();
            Connection = ConnectionMultiplexer.Connect(Configuration);
        }
        catch
        {
            Connection?.Dispose();
            foreach (var node in started)
            {
                node.Dispose();
            }
            throw;
        }
    }

    public RedisServer[] Nodes { get; }

    public string Configuration => string.Join(",", Nodes.Select(n => $"127.0.0.1:{n.Port}")) + ",allowAdmin=true";

    /// <summary>The node that serves <paramref name="slot"/> as primary now.</summary>
    public RedisServer PrimaryOf(int slot)
    {
        foreach (var line in Nodes[0].Command("CLUSTER", "NODES").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Trim().Split(' ');
            if (parts.Length < 8 || !parts[2].Contains("master", StringComparison.Ordinal))
            {
                continue;
            }
            foreach (var range in parts.Skip(8))
            {
                var bounds = range.Split('-');
                if (int.TryParse(bounds[0], out var low) && slot >= low && slot <= int.Parse(bounds[^1]))
                {
                    var port = int.Parse(parts[1].Split(':')[1].Split('@')[0]);
                    return Nodes.Single(n => n.Port == port);
                }
            }
        }
        throw new InvalidOperationException($"No primary serves slot {slot}.");
    }

    public ConnectionMultiplexer Connection { get; } = null!;

    /// <summary>The nodes that are primaries now.</summary>
    public IReadOnlyList<RedisServer> Primaries => Nodes.Where(n => n.Command("INFO", "replication").Contains("role:master")).ToList();

    /// <summary>The replica of <paramref name="primary"/>.</summary>
    public RedisServer ReplicaOf(RedisServer primary) => Nodes.Single(n => n.Command("INFO", "replication").Contains($"master_port:{primary.Port}"));

    /// <summary>
    /// Moves <paramref name="slot"/>, and the keys in it, from the primary that serves it to <paramref name="target"/>,
    /// as redis-cli's reshard does one slot at a time: importing and migrating, MIGRATE, then the new owner told to
    /// every primary.
    /// </summary>
    public void MoveSlot(int slot, RedisServer target)
    {
        var source = PrimaryOf(slot);
        if (source.Port == target.Port)
        {
            return;
        }
        var slotText = slot.ToString(System.Globalization.CultureInfo.InvariantCulture);
        target.Command("CLUSTER", "SETSLOT", slotText, "IMPORTING", NodeId(source));
        source.Command("CLUSTER", "SETSLOT", slotText, "MIGRATING", NodeId(target));
        var keys = RedisCli(["-p", source.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "CLUSTER", "GETKEYSINSLOT", slotText, "1000"])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (keys.Length > 0)
        {
            source.Command(["MIGRATE", "127.0.0.1", target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", .. keys]);
        }
        foreach (var primary in new[] { target, source }.Concat(Primaries.Where(p => p.Port != target.Port && p.Port != source.Port)))
        {
            primary.Command("CLUSTER", "SETSLOT", slotText, "NODE", NodeId(target));
        }
    }

    /// <summary>The cluster node id of <paramref name="node"/>.</summary>
    public string NodeId(RedisServer node) => node.Command("CLUSTER", "MYID").Split("\r\n")[1];

    /// <summary>Runs redis-cli and returns its output; fails with the output when it fails.</summary>
    public static string RedisCli(string[] arguments)
    {
        var start = new ProcessStartInfo(RedisServer.FindExecutable("redis-cli")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"redis-cli {string.Join(' ', arguments)} did not finish.");
        }
        var output = stdout.Result + stderr.Result;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-cli {string.Join(' ', arguments)} failed with {process.ExitCode}:\n{output}");
        }
        return output;
    }

    private void WaitUntilOk()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        // Until every node says ok and every replica has synced (a replica that never did cannot take over), a failover
        // test could start too early.
        while (!Nodes.All(n => n.Command("CLUSTER", "INFO").Contains("cluster_state:ok")
            && n.Command("INFO", "replication") is var replication && (replication.Contains("role:master") || replication.Contains("master_link_status:up"))))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The cluster did not reach cluster_state:ok within 30 s.");
            }
            Thread.Sleep(100);
        }
    }

    public void Dispose()
    {
        Connection?.Dispose();
        foreach (var node in Nodes ?? [])
        {
            node.Dispose();
        }
    }
}
