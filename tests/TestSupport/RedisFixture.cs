using StackExchange.Redis;

namespace RateGuard.TestSupport;

/// <summary>One real redis-server shared by the tests of a class, with an admin connection to inspect it.</summary>
public sealed class RedisFixture : IDisposable
{
    public RedisFixture()
    {
        Server = RedisServer.Start();
        Connection = ConnectionMultiplexer.Connect(Server.Configuration);
    }

    public RedisServer Server { get; }

    public ConnectionMultiplexer Connection { get; }

    public IDatabase Database => Connection.GetDatabase();

    public IServer Admin => Connection.GetServer("127.0.0.1", Server.Port);

    /// <summary>The number of calls of <paramref name="command"/> since the last CONFIG RESETSTAT, from INFO commandstats.</summary>
    public long CommandCalls(string command)
    {
        var section = Admin.Info("commandstats").SelectMany(g => g).FirstOrDefault(p => p.Key == "cmdstat_" + command);
        if (section.Value is null)
        {
            return 0;
        }
        // calls=12,usec=...,usec_per_call=...
        var calls = section.Value.Split(',')[0];
        return long.Parse(calls["calls=".Length..]);
    }

    public void Dispose()
    {
        Connection.Dispose();
        Server.Dispose();
    }
}
