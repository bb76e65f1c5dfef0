using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using MinimalApiSample;
using RateGuard.Testing;

namespace RateGuard.Integration.Tests.Testing;

/// <summary>
/// An app's own integration tests, written as docs/testing.md shows them: the minimal-API sample hosted by a plain
/// <see cref="WebApplicationFactory{TEntryPoint}"/>, its limits changed for each test through RateGuard's testing API
/// while its Program stays as it is.
/// </summary>
public sealed class SampleAppTestingTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-05T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly List<WebApplicationFactory<SampleMarker>> _factories = [];

    // The sample as its tests host it: buckets in memory on a clock the test moves, and a client address per request.
    private HttpClient CreateClient(Action<IServiceCollection>? configure = null, string? redis = null)
    {
        var factory = new WebApplicationFactory<SampleMarker>().WithWebHostBuilder(web =>
        {
            if (redis is not null)
            {
                web.UseSetting("TokenBuckets:Redis", redis);
            }
            web.ConfigureTestServices(services =>
            {
                services.UseInMemoryTokenBucketStore(_time).UseTestClientAddresses();
                configure?.Invoke(services);
            });
        });
        _factories.Add(factory);
        return factory.CreateClient();
    }

    [Fact]
    public async Task A_burst_past_the_capacity_is_rejected_and_a_moved_clock_refills_the_bucket()
    {
        using var client = CreateClient();
        for (var i = 0; i < 10; i++)
        {
            using var admitted = await client.GetAsync("/ping");
            admitted.EnsureSuccessStatusCode();
        }

        using var rejected = await client.GetAsync("/ping");
        var rejection = rejected.EnsureRateLimited();
        Assert.Equal(TimeSpan.FromSeconds(1), rejection.RetryAfter);
        Assert.Equal(["GET /ping"], rejection.Buckets);

        // 5 tokens a second: 200 ms brings one back, and only one.
        _time.Advance(TimeSpan.FromMilliseconds(200));
        using var refilled = await client.GetAsync("/ping");
        refilled.EnsureSuccessStatusCode();
        using var again = await client.GetAsync("/ping");
        again.EnsureRateLimited();
    }

    [Fact]
    public async Task A_test_client_address_header_plays_another_client_with_a_bucket_of_its_own()
    {
        using var client = CreateClient(services => services.SetTokenBucketLimit("GET /ping", capacity: 1, rate: 1));
        using var first = await client.GetAsync("/ping");
        first.EnsureSuccessStatusCode();
        using var second = await client.GetAsync("/ping");
        second.EnsureRateLimited();

        using var other = new HttpRequestMessage(HttpMethod.Get, "/ping") { Headers = { { TokenBucketTestServiceCollectionExtensions.ClientAddressHeader, "203.0.113.7" } } };
        using var otherResponse = await client.SendAsync(other);
        otherResponse.EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_limit_raised_for_a_test_applies_to_the_bucket_it_names_and_a_group_is_named_by_its_prefix()
    {
        using var client = CreateClient(services => services
            .SetTokenBucketLimit("GET /ping", capacity: 50, rate: 1)
            .SetTokenBucketLimit("/reports", capacity: 1, rate: 1));

        for (var i = 0; i < 50; i++)
        {
            using var admitted = await client.GetAsync("/ping");
            admitted.EnsureSuccessStatusCode();
        }
        using var fiftyFirst = await client.GetAsync("/ping");
        fiftyFirst.EnsureRateLimited();

        using var daily = await client.GetAsync("/reports/daily");
        daily.EnsureSuccessStatusCode();
        // The group's endpoints share its bucket: the weekly report finds it empty.
        using var weekly = await client.GetAsync("/reports/weekly");
        Assert.Equal(["/reports"], weekly.EnsureRateLimited().Buckets);
    }

    [Fact]
    public async Task Disabled_limits_let_every_request_through_without_headers()
    {
        using var client = CreateClient(services => services.DisableTokenBuckets());
        for (var i = 0; i < 30; i++)
        {
            using var response = await client.GetAsync("/ping");
            response.EnsureSuccessStatusCode();
            Assert.False(response.Headers.Contains("RateLimit-Policy"));
        }
    }

    [Fact]
    public async Task The_in_memory_store_replaces_the_redis_the_app_is_configured_with()
    {
        // A port nothing listens on: the app would fail open on every request if it tried Redis, and would take its
        // time budget on each. In memory it decides at once, exactly.
        using var client = CreateClient(redis: $"127.0.0.1:{TestSupport.RedisServer.FreePort()},connectTimeout=100");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 11; i++)
        {
            using var response = await client.GetAsync("/ping");
            statuses.Add(response.StatusCode);
        }
        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 10), HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task A_limit_set_for_a_bucket_the_app_does_not_have_is_an_error_that_lists_the_names_there_are()
    {
        using var client = CreateClient(services => services.AddFakeLogging().SetTokenBucketLimit("GET /pnig", capacity: 1, rate: 1));
        using var response = await client.GetAsync("/ping");
        var logs = _factories.Single().Services.GetRequiredService<FakeLogCollector>();
        var error = Assert.Single(logs.GetSnapshot(), l => l.Id.Name == "UnknownBuckets");
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, error.Level);
        Assert.Contains("'GET /pnig'", error.Message);
        Assert.Contains("'GET /ping'", error.Message);
    }

    [Fact]
    public async Task EnsureRateLimited_fails_on_a_response_that_was_not_rejected_and_says_what_it_was()
    {
        using var client = CreateClient();
        using var admitted = await client.GetAsync("/ping");
        var error = Assert.Throws<HttpRequestException>(() => admitted.EnsureRateLimited());
        Assert.Equal(HttpStatusCode.OK, error.StatusCode);
        Assert.Contains("GET http://localhost/ping was expected to be rejected by a rate limit with 429, but the response was 200 (OK)", error.Message);
    }

    [Fact]
    public void Bad_limits_are_refused_where_the_test_sets_them()
    {
        var services = new ServiceCollection();
        Assert.Throws<ArgumentOutOfRangeException>("capacity", () => services.SetTokenBucketLimit("GET /ping", capacity: 0, rate: 1));
        Assert.Throws<ArgumentOutOfRangeException>("rate", () => services.SetTokenBucketLimit("GET /ping", capacity: 1, rate: double.NaN));
        Assert.Throws<ArgumentException>("bucket", () => services.SetTokenBucketLimit("", capacity: 1, rate: 1));
    }

    public void Dispose()
    {
        foreach (var factory in _factories)
        {
            factory.Dispose();
        }
    }
}
