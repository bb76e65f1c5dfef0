using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using Xunit.Abstractions;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Process;

/// <summary>
/// The minimal-API sample built with the Request Delegate Generator on (what PublishAot switches on) and run as a
/// real process: in memory, and as two copies sharing one Redis.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
[Collection(TimingCollection.Name)]
public sealed class SampleProcessTests(SampleBuild build, RedisFixture redis, ITestOutputHelper output) : IClassFixture<SampleBuild>, IClassFixture<RedisFixture>
{
    [Fact]
    public void The_request_delegate_generator_and_the_token_bucket_generator_both_ran()
    {
        Assert.Contains(build.GeneratedFiles, f => f.Contains("RequestDelegateGenerator"));
        Assert.Contains(build.GeneratedFiles, f => f.EndsWith("RateGuard.TokenBucketGates.g.cs"));
    }

    [Fact]
    public async Task With_rdg_on_and_no_redis_ping_admits_the_seed_burst_then_429()
    {
        // What is checked is each burst's capacity: a cold process can take longer than a token's interval to answer
        // its first requests, so the refills are slowed from configuration and cannot add a token mid-burst.
        await using var sample = await SampleProcess.StartAsync(build.Assembly,
            "--TokenBuckets:Buckets:GET_ping:Rate=0.01",
            "--TokenBuckets:Buckets:reports:Rate=0.01",
            "--TokenBuckets:Buckets:GET_metadata:Rate=0.01");

        var statuses = await sample.Client.Statuses("/ping", 11);
        var group = await sample.Client.Statuses("/reports/daily", 4);
        var metadata = await sample.Client.Statuses("/metadata", 3);

        Assert.Equal(Repeat(200, 10).Then(429), statuses);
        Assert.Equal(Repeat(200, 3).Then(429), group);
        Assert.Equal(Repeat(200, 2).Then(429), metadata);
        Assert.Contains("applies per process", sample.Output);
        // The slowed refills reached the buckets they were meant for.
        // The group's endpoints share one bucket named after its prefix, and configuration reaches it under that name.
        foreach (var (url, policy) in new[] { ("/ping", "\"GET /ping\";q=10;w=1000"), ("/reports/daily", "\"/reports\";q=3;w=300"), ("/metadata", "\"GET /metadata\";q=2;w=200") })
        {
            using var last = await sample.Client.GetAsync(url);
            Assert.Equal(policy, string.Join(",", last.Headers.GetValues("RateLimit-Policy")));
        }
    }

    [Fact]
    public async Task Two_copies_over_one_redis_share_the_ping_limit()
    {
        var prefix = "--TokenBuckets:KeyPrefix=p" + Guid.NewGuid().ToString("N")[..8];
        const string budget = "--TokenBuckets:Timeout=00:00:05";
        // Alternating between two cold processes can take longer than the seed's 200 ms per token, so the refill is
        // slowed from configuration: this test is about sharing the bucket, not about its rate.
        const string slowRefill = "--TokenBuckets:Buckets:GET_ping:Rate=0.01";
        await using var first = await SampleProcess.StartAsync(build.Assembly, $"--TokenBuckets:Redis={redis.Server.Configuration}", prefix, budget, slowRefill);
        await using var second = await SampleProcess.StartAsync(build.Assembly, $"--TokenBuckets:Redis={redis.Server.Configuration}", prefix, budget, slowRefill);

        var statuses = new List<int>();
        for (var i = 0; i < 12; i++)
        {
            statuses.AddRange(await (i % 2 == 0 ? first : second).Client.Statuses("/ping", 1));
        }

        // Ten between them, not ten each: the bucket lives in Redis.
        Assert.Equal(Repeat(200, 10).Then(429, 2), statuses);
        Assert.DoesNotContain("applies per process", first.Output);
        using var last = await first.Client.GetAsync("/ping");
        Assert.Equal("\"GET /ping\";q=10;w=1000", string.Join(",", last.Headers.GetValues("RateLimit-Policy")));
    }

    [Fact]
    public async Task A_reset_on_one_copy_lets_a_rejected_client_through_on_the_other_within_a_second()
    {
        var prefix = "--TokenBuckets:KeyPrefix=r" + Guid.NewGuid().ToString("N")[..8];
        const string budget = "--TokenBuckets:Timeout=00:00:05";
        // One request a minute: a rejected client is told to come back in about 60 s, on both copies.
        string[] oneAMinute = ["--TokenBuckets:Buckets:GET_ping:Capacity=1", "--TokenBuckets:Buckets:GET_ping:Rate=0.0166667"];
        await using var a = await SampleProcess.StartAsync(build.Assembly, [$"--TokenBuckets:Redis={redis.Server.Configuration}", prefix, budget, .. oneAMinute]);
        await using var b = await SampleProcess.StartAsync(build.Assembly, [$"--TokenBuckets:Redis={redis.Server.Configuration}", prefix, budget, .. oneAMinute]);
        using var admin = new HttpClient { BaseAddress = a.BaseAddress };
        admin.DefaultRequestHeaders.Add("X-Demo-User", "operator");
        admin.DefaultRequestHeaders.Add("X-Demo-Role", "ops");
        var client = Uri.EscapeDataString("127.0.0.1");
        var bucket = Uri.EscapeDataString("GET /ping");

        // Inspect agrees with the decision that follows it: the bucket is full, and the request leaves one token fewer.
        using var inspected = JsonDocument.Parse(await admin.GetStringAsync($"/ratelimits/inspect?bucket={bucket}&key={client}"));
        using var admitted = await a.Client.GetAsync("/ping");
        var tokens = inspected.RootElement.GetProperty("tokens").GetInt64();
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal(1, tokens);
        Assert.StartsWith($"\"GET /ping\";r={tokens - 1};", admitted.Headers.GetValues("RateLimit").Single());

        // Rejected on both copies, each told to wait about a minute; each copy's deny cache now holds the rejection.
        foreach (var copy in new[] { a, b, a, b })
        {
            using var rejected = await copy.Client.GetAsync("/ping");
            Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
            Assert.InRange(int.Parse(rejected.Headers.GetValues("Retry-After").Single()), 50, 60);
        }

        using var reset = await admin.PostAsync("/ratelimits/reset", JsonContent.Create(new Dictionary<string, string> { ["bucket"] = "GET /ping", ["key"] = "127.0.0.1" }));
        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        var sinceReset = Stopwatch.StartNew();
        var refused = 0;
        while (true)
        {
            using var response = await b.Client.GetAsync("/ping");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                break;
            }
            refused++;
            Assert.True(sinceReset.Elapsed < TimeSpan.FromSeconds(30), $"B still rejects the client 30 s after the reset on A ({refused} refusals).");
            await Task.Delay(10);
        }
        var elapsed = sinceReset.Elapsed;
        output.WriteLine($"B admitted the client {elapsed.TotalMilliseconds:F0} ms after the reset on A returned, after {refused} refusals.");
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"B admitted the client only {elapsed.TotalMilliseconds:F0} ms after the reset on A ({refused} refusals).");
    }

    [Fact]
    public async Task Plans_give_each_api_key_its_plans_limit_and_configuration_or_an_exempt_network_changes_them()
    {
        await using (var sample = await SampleProcess.StartAsync(build.Assembly))
        {
            // free-: 3 at 0.1 a second; any other key the limit's own 1; internal- unlimited; banned-1 refused.
            Assert.Equal(Repeat(200, 3).Then(429), await sample.Client.Statuses("/plans", 4, ("X-Api-Key", "free-1")));
            Assert.Equal(Repeat(200, 1).Then(429), await sample.Client.Statuses("/plans", 2, ("X-Api-Key", "someone")));
            Assert.Equal(Repeat(200, 20), await sample.Client.Statuses("/plans", 20, ("X-Api-Key", "internal-1")));
            using var banned = await Get(sample.Client, "banned-1");
            Assert.Equal(HttpStatusCode.Forbidden, banned.StatusCode);
            Assert.Equal("application/problem+json", banned.Content.Headers.ContentType?.MediaType);
            // pro-: 10 at 1 a second. A cold process may take long enough for a token to come back, so the first ten
            // pass and a rejection follows within a few more.
            Assert.Equal(Repeat(200, 10), await sample.Client.Statuses("/plans", 10, ("X-Api-Key", "pro-1")));
            using var pro = await Get(sample.Client, "pro-2");
            Assert.Equal("\"plans\";q=10;w=10", pro.Header("RateLimit-Policy"));
            Assert.Contains(429, await sample.Client.Statuses("/plans", 5, ("X-Api-Key", "pro-1")));
        }
        await using (var sample = await SampleProcess.StartAsync(build.Assembly, "--TokenBuckets:Buckets:plans:Plans:pro:Capacity=5"))
        {
            using var pro = await Get(sample.Client, "pro-2");
            Assert.Equal("\"plans\";q=5;w=5", pro.Header("RateLimit-Policy"));
            Assert.Equal(Repeat(200, 4), await sample.Client.Statuses("/plans", 4, ("X-Api-Key", "pro-2")));
            Assert.Contains(429, await sample.Client.Statuses("/plans", 3, ("X-Api-Key", "pro-2")));
        }
        // Ready once it answers: with loopback exempt no response carries a bucket's state, which is what the usual
        // readiness check waits for.
        static async Task<bool> Answers(HttpClient client)
        {
            using var response = await client.GetAsync("/reports/health");
            return response.IsSuccessStatusCode;
        }
        await using (var sample = await SampleProcess.StartAsync(build.Assembly, RedisServer.FreePort(), ["--TokenBuckets:ExemptNetworks:0=127.0.0.0/8"], Answers, TimeSpan.FromSeconds(30)))
        {
            // Nothing from loopback is limited.
            Assert.Equal(Repeat(200, 5), await sample.Client.Statuses("/plans", 5, ("X-Api-Key", "someone")));
            Assert.Equal(Repeat(200, 15), await sample.Client.Statuses("/ping", 15));
            Assert.Equal(Repeat(200, 5), await sample.Client.Statuses("/reports/daily", 5));
        }
    }

    [Fact]
    public async Task Login_counts_failures_only_and_chat_charges_its_tokens_after_the_answer_across_two_copies()
    {
        string[] redisArgs = [$"--TokenBuckets:Redis={redis.Server.Configuration}", "--TokenBuckets:KeyPrefix=o" + Guid.NewGuid().ToString("N")[..8], "--TokenBuckets:Timeout=00:00:05"];
        await using var first = await SampleProcess.StartAsync(build.Assembly, redisArgs);
        await using var second = await SampleProcess.StartAsync(build.Assembly, redisArgs);
        SampleProcess[] copies = [first, second];

        // Eight good logins all pass, alternating between the copies; three bad ones get 401; the next gets 429 whatever
        // its password.
        var statuses = new List<int>();
        for (var i = 0; i < 12; i++)
        {
            statuses.Add(await Login(copies[i % 2].Client, i is >= 8 and < 11 ? "wrong" : "secret"));
        }
        Assert.Equal(Repeat(200, 8).Then(401, 3).Then(429), statuses);

        // Two chats of 80 tokens pass; the third waits for the debt to be paid back, about a minute at 1 a second.
        Assert.Equal(200, await Chat(first.Client, 80));
        Assert.Equal(200, await Chat(second.Client, 80));
        using var third = await ChatResponse(first.Client, 80);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.InRange(long.Parse(third.Header("Retry-After")!, System.Globalization.CultureInfo.InvariantCulture), 55, 62);
        // The operations service shows the debt: 60 tokens, less what refilled since.
        using var inspect = new HttpRequestMessage(HttpMethod.Get, "/ratelimits/inspect?bucket=POST%20/chat&key=chat-key");
        inspect.Headers.Add("X-Demo-User", "operator");
        inspect.Headers.Add("X-Demo-Role", "ops");
        using var state = await second.Client.SendAsync(inspect);
        using var json = JsonDocument.Parse(await state.Content.ReadAsStringAsync());
        Assert.InRange(json.RootElement.GetProperty("debt").GetInt64(), 50, 60);
        Assert.Equal(0, json.RootElement.GetProperty("tokens").GetInt64());
    }

    [Fact]
    public async Task In_shadow_mode_every_request_passes_and_the_admin_json_counts_what_would_have_been_rejected()
    {
        // /ping refills slowly here, so a busy machine cannot give tokens back between the requests.
        await using var sample = await SampleProcess.StartAsync(build.Assembly, "--TokenBuckets:Mode=Shadow", "--TokenBuckets:Buckets:GET_ping:Rate=0.01");

        Assert.Equal(Repeat(200, 15), await sample.Client.Statuses("/ping", 15));
        var logins = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            logins.Add(await Login(sample.Client, "wrong"));
        }
        Assert.Equal(Repeat(401, 5), logins);
        using var missingKey = await sample.Client.GetAsync("/api-key");
        Assert.Equal(HttpStatusCode.OK, missingKey.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/ratelimits/buckets");
        request.Headers.Add("X-Demo-User", "operator");
        request.Headers.Add("X-Demo-Role", "ops");
        using var response = await sample.Client.SendAsync(request);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var buckets = json.RootElement.GetProperty("buckets").EnumerateArray().ToDictionary(b => b.GetProperty("name").GetString()!);
        Assert.Equal("Shadow", buckets["GET /ping"].GetProperty("mode").GetString());
        // Fifteen requests against ten tokens: five would have been rejected, and none was.
        Assert.Equal(5, buckets["GET /ping"].GetProperty("shadowRejected").GetInt64());
        Assert.Equal(2, buckets["POST /login"].GetProperty("shadowRejected").GetInt64());
        Assert.Equal(1, buckets["GET /api-key"].GetProperty("shadowRejected").GetInt64());
        Assert.Equal(0, buckets["GET /ping"].GetProperty("rejected").GetInt64());
    }

    private static async Task<int> Login(HttpClient client, string password)
    {
        using var response = await client.PostAsJsonAsync("/login", new { user = "ann", password });
        return (int)response.StatusCode;
    }

    private static async Task<int> Chat(HttpClient client, int tokens)
    {
        using var response = await ChatResponse(client, tokens);
        return (int)response.StatusCode;
    }

    private static async Task<HttpResponseMessage> ChatResponse(HttpClient client, int tokens)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/chat") { Content = JsonContent.Create(new { tokens }) };
        request.Headers.Add("X-Api-Key", "chat-key");
        return await client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> Get(HttpClient client, string apiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/plans");
        request.Headers.Add("X-Api-Key", apiKey);
        return await client.SendAsync(request);
    }
}
