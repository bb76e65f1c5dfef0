using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Outcomes;

/// <summary>
/// Charges after the fact: the handler reports a request's actual cost, which replaces the cost taken up front, may
/// take the bucket into debt, and is bounded by the limit's MaxCost. In memory, and over one Redis with two instances
/// taking turns.
/// </summary>
public sealed class ChargesTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private readonly OutcomeTurns _instances = new(redis, "ch" + Guid.NewGuid().ToString("N")[..8]);

    public static TheoryData<Store> Stores => new() { Store.InMemory, Store.Redis };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _instances.DisposeAsync();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Two_requests_charged_80_pass_and_the_third_waits_about_a_minute_for_the_debt(Store store)
    {
        await _instances.StartAsync(store);

        // 100 tokens at 1 a second; each request finds its 1 token, then is charged 80 in all.
        await _instances.Expect([200, 200], "/metered?charge=80", "eve");
        // 160 taken from 100: 60 in debt, full again in 160 s.
        var owed = await _instances.Settled(OutcomesApp.Metered, "eve", s => s.TimeToFull > TimeSpan.FromSeconds(150));
        Assert.Equal(0, owed.Tokens);
        Assert.InRange(owed.TimeToFull, TimeSpan.FromSeconds(150), TimeSpan.FromSeconds(160));

        using var refused = await _instances.Send("/metered?charge=1", "eve");

        Assert.Equal(429, (int)refused.StatusCode);
        // The debt of 60 and the token the request needs: 61 s, less what has refilled since.
        Assert.InRange(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(55), TimeSpan.FromSeconds(65));
        Assert.Equal(2, _instances.Apps.Sum(a => a.Calls[OutcomesApp.Metered]));
    }

    [Fact]
    public async Task A_debt_charged_on_one_instance_refuses_the_client_on_the_other()
    {
        await _instances.StartAsync(Store.Redis);
        var (first, second) = (_instances.Apps[0], _instances.Apps[1]);

        using (var charged = await Get(first, "/metered?charge=150", "ivy"))
        {
            Assert.Equal(200, (int)charged.StatusCode);
        }
        var owed = await _instances.Settled(OutcomesApp.Metered, "ivy", s => s.TimeToFull > TimeSpan.FromSeconds(140));
        Assert.InRange(owed.TimeToFull, TimeSpan.FromSeconds(140), TimeSpan.FromSeconds(150));
        using var refused = await Get(second, "/metered?charge=1", "ivy");

        Assert.Equal(429, (int)refused.StatusCode);
        // 50 in debt and one token needed: 51 s, less what has refilled since.
        Assert.InRange(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(45), TimeSpan.FromSeconds(55));
        Assert.Equal(0, second.Calls[OutcomesApp.Metered]);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task In_production_a_charge_above_MaxCost_is_clamped_to_it_and_logged_and_one_that_is_no_cost_counts_as_0(Store store)
    {
        await _instances.StartAsync(store);

        await _instances.Expect([200], "/metered?charge=5000", "fay");

        // MaxCost is 1,000: the bucket of 100 is 900 in debt, full again in 1,000 s, not 5,000.
        var owed = await _instances.Settled(OutcomesApp.Metered, "fay", s => s.TimeToFull > TimeSpan.FromSeconds(990));
        Assert.Equal(0, owed.Tokens);
        Assert.InRange(owed.TimeToFull, TimeSpan.FromSeconds(990), TimeSpan.FromSeconds(1000));
        var clamped = Assert.Single(_instances.Apps.SelectMany(a => a.Logs.GetSnapshot()), l => l.Id.Name == "ChargeClamped");
        Assert.Contains("reported a cost of 5000 tokens; 1000 were charged", clamped.Message);

        // A report that is negative or not a number counts as 0: the request costs nothing, and its token comes back.
        await _instances.Expect([200], "/metered?charge=-5", "gil");
        await _instances.Expect([200], "/metered?charge=NaN", "gil");
        var free = await _instances.Settled(OutcomesApp.Metered, "gil", s => s.TimeToFull == TimeSpan.Zero);
        Assert.Equal((100, TimeSpan.Zero), (free.Tokens, free.TimeToFull));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Configuration_replaces_the_MaxCost_code_declares(Store store)
    {
        await _instances.StartAsync(store, new() { ["Buckets:metered:MaxCost"] = "30" });

        await _instances.Expect([200], "/metered?charge=80", "kay");

        // Clamped to 30, not 80: 70 left, full again in 30 s.
        var charged = await _instances.Settled(OutcomesApp.Metered, "kay", s => s.TimeToFull > TimeSpan.FromSeconds(25));
        Assert.InRange(charged.TimeToFull, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
        Assert.InRange(charged.Tokens, 70, 75);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task In_development_a_charge_above_MaxCost_negative_or_not_a_number_throws_and_the_request_fails(Store store)
    {
        await _instances.StartAsync(store, environment: "Development");

        foreach (var charge in new[] { "5000", "-5", "NaN" })
        {
            using var failed = await _instances.Send($"/metered?charge={charge}", "gus");
            Assert.Equal(500, (int)failed.StatusCode);
            Assert.Contains(nameof(ArgumentOutOfRangeException), await failed.Content.ReadAsStringAsync());
        }

        // Nothing was charged beyond the token each took up front; a request that failed counts, as every response does here.
        var state = await _instances.Settled(OutcomesApp.Metered, "gus", _ => true);
        Assert.InRange(state.Tokens, 97, 100);
        Assert.InRange(state.TimeToFull, TimeSpan.Zero, TimeSpan.FromSeconds(3));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task In_development_a_charge_one_limit_refuses_charges_none_of_the_requests_limits(Store store)
    {
        await _instances.StartAsync(store, environment: "Development");

        // 500 is within the wide limit's 1,000 but not the narrow one's 100.
        using var failed = await _instances.Send("/bounds?charge=500", "ivy");
        Assert.Equal(500, (int)failed.StatusCode);

        // Each limit keeps the one token it took up front, the wide one included.
        Assert.Equal(99, (await _instances.Settled(OutcomesApp.Wide, "ivy", _ => true)).Tokens);
        Assert.Equal(99, (await _instances.Settled(OutcomesApp.Narrow, "ivy", _ => true)).Tokens);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task The_actual_cost_replaces_the_cost_taken_up_front_added_up_over_the_handlers_reports(Store store)
    {
        await _instances.StartAsync(store);

        // 10 up front; an actual cost of 3 gives 7 back.
        await _instances.Expect([200], "/priced?charge=3", "hal");
        Assert.Equal(97, (await _instances.Holding(OutcomesApp.Priced, "hal", 97)).Tokens);
        // Three reports of 2.5 make 7.5, charged as 8.
        await _instances.Expect([200], "/priced?charge=2.5&times=3", "hal");
        Assert.Equal(89, (await _instances.Holding(OutcomesApp.Priced, "hal", 89)).Tokens);
        // 30, above the 10 up front.
        await _instances.Expect([200], "/priced?charge=30", "hal");
        Assert.Equal(59, (await _instances.Holding(OutcomesApp.Priced, "hal", 59)).Tokens);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Requests_charged_into_debt_together_give_it_all_back_when_their_responses_do_not_count(Store store)
    {
        await _instances.StartAsync(store);

        // Two successes at once on a limit that counts failures: both admitted, then each charged 150 of the bucket's 100
        // before either answers.
        var first = _instances.Send("/held?charge=150&status=200", "joe");
        var second = _instances.Send("/held?charge=150&status=200", "joe");
        await Eventually(() => _instances.Apps.Sum(a => a.Calls[OutcomesApp.Held]) == 2, "both requests are admitted");
        foreach (var app in _instances.Apps)
        {
            app.Calls.LetCharge();
        }
        // 300 taken from 100 at a token every 1,000 s: 300,000 s to full.
        var owed = await _instances.Settled(OutcomesApp.Held, "joe", s => s.TimeToFull > TimeSpan.FromSeconds(299_000));
        Assert.InRange(owed.TimeToFull, TimeSpan.FromSeconds(299_000), TimeSpan.FromSeconds(300_000));

        foreach (var app in _instances.Apps)
        {
            app.Calls.Release();
        }
        using (var answered = await first)
        using (var alsoAnswered = await second)
        {
            Assert.Equal((200, 200), ((int)answered.StatusCode, (int)alsoAnswered.StatusCode));
        }

        // Neither counts: each gives back its 150, the first while the other's charge still holds the bucket in debt.
        var refunded = await _instances.Settled(OutcomesApp.Held, "joe", s => s.TimeToFull == TimeSpan.Zero);
        Assert.Equal((100, TimeSpan.Zero), (refunded.Tokens, refunded.TimeToFull));
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(5), $"Not within 5 s: {what}.");
            await Task.Delay(10);
        }
    }

    private static async Task<HttpResponseMessage> Get(OutcomesApp app, string path, string user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-User", user);
        return await app.Client.SendAsync(request);
    }
}
