using System.Diagnostics;
using RateGuard.Testing;
using StackExchange.Redis;

namespace RateGuard.Runtime.Tests.Cluster;

/// <summary>
/// A real three-node Redis Cluster on loopback: three <c>redis-server --cluster-enabled yes</c> processes joined with
/// <c>redis-cli --cluster create</c>. Started once for the tests that share it, and killed afterwards.
/// </summary>
public sealed class RedisCluster : IDisposable
{
    public RedisCluster()
    {
        var started = new List<RedisServer>();
        Nodes = [];
        try
        {
            // One at a time inside the try, so a node that fails to start does not leave the others running.
            for (var i = 0; i < 3; i++)
            {
                started.Add(RedisServer.Start("--cluster-enabled", "yes", "--cluster-node-timeout", "5000"));
            }
            Nodes = [.. started];
            RedisCli(["--cluster", "create", .. Nodes.Select(n => $"127.0.0.1:{n.Port}"), "--cluster-replicas", "0", "--cluster-yes"]);
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

    public ConnectionMultiplexer Connection { get; } = null!;

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
        while (!Nodes.All(n => n.Command("CLUSTER", "INFO").Contains("cluster_state:ok")))
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
