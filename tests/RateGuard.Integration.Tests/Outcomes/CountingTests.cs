using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Outcomes;

/// <summary>
/// Limits that count by outcome: a request is admitted only if its bucket holds its cost, is charged it up front, and
/// gets it back once its response turns out not to count. In memory, and over one Redis with two instances taking turns.
/// </summary>
public sealed class CountingTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private readonly OutcomeTurns _instances = new(redis, "oc" + Guid.NewGuid().ToString("N")[..8]);

    public static TheoryData<Store> Stores => new() { Store.InMemory, Store.Redis };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _instances.DisposeAsync();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Successes_never_consume_a_failures_only_limit_and_failures_are_held_to_its_capacity(Store store)
    {
        await _instances.StartAsync(store);

        await _instances.Expect(Repeat(200, 12), "/failures?status=200", "ann");
        await _instances.Expect(Repeat(201, 3), "/failures?status=201", "ann");
        var refunded = await _instances.Holding(OutcomesApp.Failures, "ann", 5);
        Assert.Equal((5, TimeSpan.Zero), (refunded.Tokens, refunded.TimeToFull));

        // Every failure counts, a 404 as much as a 500: five, then the bucket is empty.
        await _instances.Expect([500, 500, 500], "/failures?status=500", "ann");
        await _instances.Expect([404, 404, 429, 429], "/failures?status=404", "ann");
        // An empty bucket admits nothing, not even a request that would have succeeded.
        await _instances.Expect([429], "/failures?status=200", "ann");
        Assert.Equal(15 + 5, _instances.Apps.Sum(a => a.Calls[OutcomesApp.Failures]));
        var emptied = await _instances.Settled(OutcomesApp.Failures, "ann", _ => true);
        Assert.Equal(0, emptied.Tokens);
        // Five tokens owed at 0.001 a second: 5,000 s to full, less the seconds the test took.
        Assert.InRange(emptied.TimeToFull, TimeSpan.FromSeconds(4_900), TimeSpan.FromSeconds(5_000));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_request_whose_handler_throws_counts_as_a_failure(Store store)
    {
        // In development, where the exception page answers the exception with a 500.
        await _instances.StartAsync(store, environment: "Development");

        await _instances.Expect([500, 500, 429], "/throws", "fox");
        Assert.Equal(2, _instances.Apps.Sum(a => a.Calls[OutcomesApp.Thrown]));
        Assert.Equal(0, (await _instances.Settled(OutcomesApp.Thrown, "fox", _ => true)).Tokens);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_status_list_counts_only_the_codes_it_names(Store store)
    {
        await _instances.StartAsync(store);

        // "401,403,500-599": a 400, 404, 409 or 499 is a failure, but not one the list names.
        int[] uncounted = [200, 400, 404, 409, 499];
        foreach (var status in uncounted)
        {
            await _instances.Expect([status], $"/listed?status={status}", "bob");
        }
        Assert.Equal(3, (await _instances.Holding(OutcomesApp.Listed, "bob", 3)).Tokens);

        int[] counted = [401, 403, 503];
        foreach (var status in counted)
        {
            await _instances.Expect([status], $"/listed?status={status}", "bob");
        }
        await _instances.Expect([429], "/listed?status=404", "bob");
        Assert.Equal(uncounted.Length + counted.Length, _instances.Apps.Sum(a => a.Calls[OutcomesApp.Listed]));
        Assert.Equal(0, (await _instances.Settled(OutcomesApp.Listed, "bob", _ => true)).Tokens);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_count_rule_of_the_apps_decides_which_responses_count(Store store)
    {
        await _instances.StartAsync(store);

        // The rule counts 418 alone.
        foreach (var status in new[] { 500, 200, 404, 503 })
        {
            await _instances.Expect([status], $"/teapots?status={status}", "cat");
        }
        Assert.Equal(2, (await _instances.Holding(OutcomesApp.Teapots, "cat", 2)).Tokens);

        await _instances.Expect([418, 418, 429], "/teapots?status=418", "cat");
        await _instances.Expect([429], "/teapots?status=200", "cat");
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Configuration_replaces_what_code_declares_a_bucket_counts(Store store)
    {
        await _instances.StartAsync(store, new() { ["Buckets:plain:Count"] = "failures", ["Buckets:failures:Count"] = "all" });

        // plain (2) declares no count, and now counts failures only: its successes come back.
        await _instances.Expect(Repeat(200, 4), "/plain", "eli");
        Assert.Equal(2, (await _instances.Holding(OutcomesApp.Plain, "eli", 2)).Tokens);
        // failures (5) declares failures, and now counts every response.
        await _instances.Expect(Repeat(200, 5).Then(429), "/failures?status=200", "eli");
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Two_limits_on_one_endpoint_each_count_by_their_own_rule_and_still_decide_all_or_nothing(Store store)
    {
        await _instances.StartAsync(store);

        // all-calls (10) counts every response, failed-calls (3) only failures.
        await _instances.Expect([200, 200], "/both?status=200", "dan");
        await _instances.Expect([500, 500], "/both?status=500", "dan");
        Assert.Equal(1, (await _instances.Holding(OutcomesApp.FailedCalls, "dan", 1)).Tokens);
        Assert.Equal(6, (await _instances.Settled(OutcomesApp.AllCalls, "dan", _ => true)).Tokens);

        await _instances.Expect([200], "/both?status=200", "dan");
        Assert.Equal(1, (await _instances.Holding(OutcomesApp.FailedCalls, "dan", 1)).Tokens);
        await _instances.Expect([503], "/both?status=503", "dan");

        // failed-calls is empty: it refuses the next request, success or not, which takes nothing from all-calls.
        using var refused = await _instances.Send("/both?status=200", "dan");
        Assert.Equal(429, (int)refused.StatusCode);
        Assert.Contains("Rate limit 'failed-calls' exceeded", await refused.Content.ReadAsStringAsync());
        Assert.Equal(6, _instances.Apps.Sum(a => a.Calls["both"]));
        Assert.Equal(10 - 6, (await _instances.Settled(OutcomesApp.AllCalls, "dan", _ => true)).Tokens);
        Assert.Equal(0, (await _instances.Settled(OutcomesApp.FailedCalls, "dan", _ => true)).Tokens);
    }
}
