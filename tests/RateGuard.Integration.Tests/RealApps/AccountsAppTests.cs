using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.RealApps;

/// <summary>
/// Counting by outcome in an app shaped like a real one (<see cref="AccountsApp"/>): two copies over one Redis, a request
/// to each in turn, as behind a load balancer.
/// </summary>
public sealed class AccountsAppTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private readonly List<AccountsApp> _copies = [];
    private int _turn;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["TokenBuckets:Redis"] = redis.Server.Configuration,
            ["TokenBuckets:KeyPrefix"] = "acc" + Guid.NewGuid().ToString("N")[..8],
            // A loaded machine must not turn a decision into the failure mode: this test is about counting.
            ["TokenBuckets:Timeout"] = "00:00:05",
        };
        _copies.Add(await AccountsApp.StartAsync(settings));
        _copies.Add(await AccountsApp.StartAsync(settings));
    }

    public async Task DisposeAsync()
    {
        foreach (var copy in _copies)
        {
            await copy.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_controllers_sign_in_counts_failed_attempts_only_across_the_copies()
    {
        var statuses = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            statuses.Add(await SignIn("10.1.0.1", "correct horse"));
        }
        for (var i = 0; i < 4; i++)
        {
            statuses.Add(await SignIn("10.1.0.1", "wrong"));
        }
        statuses.Add(await SignIn("10.1.0.1", "correct horse"));

        // Ten successes took nothing in the end; three failures emptied the bucket; then even the right password waits.
        Assert.Equal(HttpAssertions.Repeat(200, 10).Then(401, 3).Then(429, 2), statuses);
        // Another address has its own bucket.
        Assert.Equal(401, await SignIn("10.1.0.2", "wrong"));
    }

    [Fact]
    public async Task The_groups_limit_counts_only_lookups_of_records_that_do_not_exist()
    {
        var token = AccountsApp.TokenFor("eve");
        var statuses = new List<int>();
        for (var id = 1; id <= 12; id++)
        {
            statuses.Add(await Lookup(token, id));
        }
        for (var id = 900; id < 905; id++)
        {
            statuses.Add(await Lookup(token, id));
        }
        statuses.Add(await Lookup(token, 1));

        Assert.Equal(HttpAssertions.Repeat(200, 12).Then(404, 4).Then(429, 2), statuses);
        // A user who looks up what exists is not held back by another's enumeration.
        Assert.Equal(200, await Lookup(AccountsApp.TokenFor("ann"), 1));
    }

    [Fact]
    public async Task The_document_and_a_browsers_preflight_still_describe_the_limits()
    {
        using var document = await _copies[0].Client.GetAsync("/swagger/v1/swagger.json");
        var json = await document.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.Contains("\"429\"", json);
        Assert.Contains("/account/sign-in", json);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/sign-in") { Content = JsonContent.Create(new SignIn("ann", "wrong")) };
        request.Headers.Add("Origin", "https://app.accounts.example");
        request.Headers.Add("X-Test-IP", "10.1.0.9");
        using var response = await _copies[1].Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("RateLimit", response.Headers.GetValues("Access-Control-Expose-Headers").Single());
    }

    private HttpClient Next() => _copies[_turn++ % _copies.Count].Client;

    private async Task<int> SignIn(string address, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/sign-in") { Content = JsonContent.Create(new SignIn("ann", password)) };
        request.Headers.Add("X-Test-IP", address);
        using var response = await Next().SendAsync(request);
        return (int)response.StatusCode;
    }

    private async Task<int> Lookup(string token, int id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/accounts/{id}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Next().SendAsync(request);
        return (int)response.StatusCode;
    }
}
