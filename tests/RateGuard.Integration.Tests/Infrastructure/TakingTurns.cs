using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Infrastructure;

/// <summary>
/// Copies of one test app over one store, answering requests in turn as instances behind a load balancer do: one copy
/// in memory, two over Redis. Requests name their client in <c>X-User</c>.
/// </summary>
public sealed class TakingTurns(RedisFixture redis, string prefix) : IAsyncDisposable
{
    private readonly List<(HttpClient Client, IAsyncDisposable App)> _apps = [];
    private int _turn;

    /// <summary>The key prefix the copies share, and no other test uses.</summary>
    public string Prefix { get; } = prefix;

    /// <summary>Starts the copies <paramref name="store"/> calls for, each from <paramref name="start"/> given the Redis server or none.</summary>
    public async Task StartAsync<TApp>(Store store, Func<RedisServer?, Task<TApp>> start, Func<TApp, HttpClient> client)
        where TApp : IAsyncDisposable
    {
        var server = store == Store.Redis ? redis.Server : null;
        for (var i = 0; i < (store == Store.Redis ? 2 : 1); i++)
        {
            var app = await start(server);
            _apps.Add((client(app), app));
        }
    }

    public async Task<HttpResponseMessage> Send(string method, string path, string user, params (string Name, string Value)[] headers)
    {
        var client = _apps[_turn++ % _apps.Count].Client;
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("X-User", user);
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }
        return await client.SendAsync(request);
    }

    public async Task<int> Status(string method, string path, string user, params (string Name, string Value)[] headers)
    {
        using var response = await Send(method, path, user, headers);
        return (int)response.StatusCode;
    }

    /// <summary>The copies' apps, in the order they were started.</summary>
    public IEnumerable<IAsyncDisposable> Apps => _apps.Select(a => a.App);

    /// <summary>
    /// The buckets' Redis keys under the test's prefix, in order: not the instances' heartbeat key beside them, which
    /// each copy writes in the background, early or late.
    /// </summary>
    public string[] Keys() =>
        [.. redis.Admin.Keys(pattern: Prefix + ":*").Select(k => (string)k!).Where(k => k != Prefix + ":instances").Order(StringComparer.Ordinal)];

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, app) in _apps)
        {
            await app.DisposeAsync();
        }
    }
}
