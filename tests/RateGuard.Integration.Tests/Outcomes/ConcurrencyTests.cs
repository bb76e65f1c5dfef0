using System.Diagnostics;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Integration.Tests.Outcomes;

/// <summary>
/// Many requests at once from one client over two instances sharing one Redis: what a limit admits stays within its
/// capacity and the refill of the time the run took, whatever the refunds of the requests that did not count do
/// meanwhile, and the buckets end as the admissions left them.
/// </summary>
public sealed class ConcurrencyTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private const int Capacity = 5;

    // No rejection is remembered by an instance: every request is decided by the store, while refunds are arriving.
    private static readonly Dictionary<string, string?> s_everyRequestToTheStore = new() { ["DenyCache"] = "false" };

    private readonly OutcomeTurns _instances = new(redis, "cc" + Guid.NewGuid().ToString("N")[..8]);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _instances.DisposeAsync();

    [Fact]
    public async Task Two_hundred_failures_at_once_over_two_instances_admit_no_more_than_the_capacity_and_its_refill()
    {
        await _instances.StartAsync(Store.Redis, s_everyRequestToTheStore);
        var since = Stopwatch.StartNew();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Send(_instances.Apps[i % 2], "/failures?status=500", "nat")));
        var run = since.Elapsed;

        var admitted = _instances.Apps.Sum(a => a.Calls[OutcomesApp.Failures]);
        output.WriteLine($"{admitted} admitted in {run.TotalSeconds:0.0} s");
        Assert.All(statuses, s => Assert.Contains(s, new[] { 500, 429 }));
        Assert.Equal(admitted, statuses.Count(s => s == 500));
        Assert.InRange(admitted, Capacity, Capacity + Refill(run));
        // Nothing was given back: the bucket owes exactly the failures admitted.
        var state = await _instances.Settled(OutcomesApp.Failures, "nat", _ => true);
        AssertOwes(admitted, state.TimeToFull, since.Elapsed);
    }

    [Fact]
    public async Task Successes_given_back_meanwhile_never_let_concurrent_failures_past_the_bound()
    {
        await _instances.StartAsync(Store.Redis, s_everyRequestToTheStore);
        var since = Stopwatch.StartNew();

        // Twenty connections at once, ten requests each, four successes to a failure, so that refunds arrive while
        // failures are being decided. Each success holds a token until its response is known.
        var workers = await Task.WhenAll(Enumerable.Range(0, 20).Select(async worker =>
        {
            var statuses = new List<int>();
            for (var i = 0; i < 10; i++)
            {
                statuses.Add(await Send(_instances.Apps[(worker + i) % 2], (worker + i) % 5 == 0 ? "/failures?status=503" : "/failures?status=200", "oak"));
            }
            return statuses;
        }));
        var run = since.Elapsed;

        var statuses = workers.SelectMany(w => w).ToArray();
        var (succeeded, failed) = (statuses.Count(s => s == 200), statuses.Count(s => s == 503));
        output.WriteLine($"{succeeded} successes and {failed} failures admitted in {run.TotalSeconds:0.0} s");
        Assert.All(statuses, s => Assert.Contains(s, new[] { 200, 503, 429 }));
        Assert.True(succeeded > 0, "some successes were admitted");
        Assert.InRange(failed, 0, Capacity + Refill(run));

        // Once every success has its token back, the bucket owes exactly the failures: the successes left nothing, and
        // gave back nothing they had not taken.
        var state = await _instances.Holding(OutcomesApp.Failures, "oak", Math.Max(0, Capacity - failed));
        Assert.InRange(state.Tokens, Math.Max(0, Capacity - failed), Math.Min(Capacity, Math.Max(0, Capacity - failed) + Refill(since.Elapsed)));
        AssertOwes(failed, state.TimeToFull, since.Elapsed);
    }

    [Fact]
    public async Task A_bucket_in_shadow_mode_leaves_the_enforcing_one_exact_under_concurrency()
    {
        await _instances.StartAsync(Store.Redis, new() { ["Buckets:watched:Mode"] = "Shadow" });

        var statuses = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Send(_instances.Apps[i % 2], "/watched", "pat")));

        // enforced holds 4: exactly 4 pass (no token comes back in 1,000 s); watched took its 2 and nothing more.
        Assert.Equal(4, statuses.Count(s => s == 200));
        Assert.Equal(56, statuses.Count(s => s == 429));
        Assert.Equal(4, _instances.Apps.Sum(a => a.Calls[OutcomesApp.Watched]));
        var watched = await _instances.Settled(OutcomesApp.Watched, "pat", _ => true);
        Assert.InRange(watched.TimeToFull, TimeSpan.FromSeconds(1_900), TimeSpan.FromSeconds(2_000));
        var enforced = await _instances.Settled(OutcomesApp.Enforced, "pat", _ => true);
        Assert.InRange(enforced.TimeToFull, TimeSpan.FromSeconds(3_900), TimeSpan.FromSeconds(4_000));
    }

    // A bucket that was full when the test began, and owes exactly the tokens taken: its time to full is theirs at the
    // slow rate, less what has refilled since.
    private static void AssertOwes(int tokens, TimeSpan timeToFull, TimeSpan since) =>
        Assert.InRange(timeToFull, TimeSpan.FromSeconds(tokens / OutcomesApp.SlowRate) - since, TimeSpan.FromSeconds(tokens / OutcomesApp.SlowRate));

    // Tokens refilled over a run of this length: whole ones, as the bucket gives them.
    private static int Refill(TimeSpan elapsed) => (int)Math.Floor(elapsed.TotalSeconds * OutcomesApp.SlowRate);

    private static async Task<int> Send(OutcomesApp app, string path, string user)
    {
        // Off the test's thread, so the requests are in flight together.
        await Task.Yield();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-User", user);
        using var response = await app.Client.SendAsync(request);
        return (int)response.StatusCode;
    }
}
