using System.Diagnostics;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Operations;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Outcomes;

/// <summary>
/// <see cref="OutcomesApp"/> as instances behind a load balancer (one in memory, two over one Redis, answering in
/// turn), and what the outcome tests ask of them: statuses in order, and a bucket once the changes made after its
/// requests have reached the store.
/// </summary>
public sealed class OutcomeTurns(RedisFixture redis, string prefix) : IAsyncDisposable
{
    private readonly TakingTurns _turns = new(redis, prefix);

    public string Prefix => _turns.Prefix;

    public OutcomesApp[] Apps => [.. _turns.Apps.Cast<OutcomesApp>()];

    public Task StartAsync(Store store, Dictionary<string, string?>? settings = null, string environment = "Production") =>
        _turns.StartAsync(store, server => OutcomesApp.StartAsync(server?.Configuration, Prefix, settings, environment), app => app.Client);

    public Task<HttpResponseMessage> Send(string path, string user, params (string Name, string Value)[] headers) =>
        _turns.Send("GET", path, user, headers);

    public async Task<int[]> Statuses(int count, string path, string user, params (string Name, string Value)[] headers)
    {
        var statuses = new int[count];
        for (var i = 0; i < count; i++)
        {
            statuses[i] = await _turns.Status("GET", path, user, headers);
        }
        return statuses;
    }

    /// <summary>Sends one request a status is expected for, in order, and asserts they came.</summary>
    public async Task Expect(int[] expected, string path, string user) => Assert.Equal(expected, await Statuses(expected.Length, path, user));

    /// <summary>
    /// The bucket of <paramref name="user"/> once <paramref name="settled"/> says the refunds and charges made after the
    /// response have reached it (they are not waited for by the request), or as it is after 5 s: the caller asserts it.
    /// </summary>
    public async Task<TokenBucketState> Settled(string bucket, string user, Func<TokenBucketState, bool> settled)
    {
        var operations = Apps[0].Operations;
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var state = await operations.InspectAsync(bucket, user);
            if (settled(state) || waited.Elapsed > TimeSpan.FromSeconds(5))
            {
                return state;
            }
            await Task.Delay(20);
        }
    }

    /// <summary>The bucket of <paramref name="user"/> once it holds <paramref name="tokens"/> (see <see cref="Settled"/>).</summary>
    public Task<TokenBucketState> Holding(string bucket, string user, long tokens) => Settled(bucket, user, s => s.Tokens == tokens);

    public ValueTask DisposeAsync() => _turns.DisposeAsync();
}
