using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Limiting;
using RateGuard.Operations;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// The page as served: client values and bucket names encoded wherever they appear, and headers that let only the
/// page's own script and style run.
/// </summary>
public sealed partial class AdminPageTests
{
    private const string Hostile = "<script>alert(1)</script>";

    [Fact]
    public async Task A_rejected_client_named_with_a_script_tag_is_shown_escaped_and_round_trips_through_the_JSON()
    {
        await using var app = await AdminApp.StartAsync();
        await app.RejectAsync(Hostile);

        var html = await PageAsync(app);

        Assert.DoesNotContain("<script>alert(1)", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        // The page's own script is the only one.
        Assert.Single(ScriptTag().Matches(html));

        using var part = await app.AdminAsync(HttpMethod.Get, "?part=data");
        var fragment = await part.Content.ReadAsStringAsync();
        Assert.StartsWith("<div id=\"data\">", fragment);
        Assert.DoesNotContain("<script", fragment);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", fragment);
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", part.Header("Content-Security-Policy"));

        using var buckets = await AdminJsonTests.ReadJsonAsync(await app.AdminAsync(HttpMethod.Get, "buckets"));
        var rejected = buckets.RootElement.GetProperty("buckets")[0].GetProperty("topRejected")[0];
        Assert.Equal(Hostile, rejected.GetProperty("key").GetString());
        using var state = await AdminJsonTests.ReadJsonAsync(await app.AdminAsync(HttpMethod.Get, AdminJsonTests.Inspect(Hostile)));
        Assert.Equal(Hostile, state.RootElement.GetProperty("key").GetString());
        Assert.Equal(0, state.RootElement.GetProperty("tokens").GetInt64());

        using var reset = await app.AdminAsync(HttpMethod.Post, "reset", JsonSerializer.Serialize(new { bucket = AdminApp.Bucket, key = Hostile }));
        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        Assert.Equal(200, await app.RequestItemAsync(Hostile));
    }

    [Fact]
    public async Task The_JSON_escapes_markup_characters_so_it_cannot_run_as_HTML_either()
    {
        await using var app = await AdminApp.StartAsync();
        await app.RejectAsync(Hostile);

        using var response = await app.AdminAsync(HttpMethod.Get, "buckets");
        var text = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain("<", text);
        Assert.Contains("\\u003Cscript\\u003Ealert(1)\\u003C/script\\u003E", text);
    }

    [Fact]
    public async Task Bucket_names_and_keys_are_encoded_in_text_and_in_attributes()
    {
        const string bucket = "<b>orders</b> \"quoted\" & 'single'";
        const string key = "\" onmouseover=\"alert(1)";
        var fake = new FakeTokenBucketOperations
        {
            Buckets = [new TokenBucketSummary(bucket, 5, 1, 1, FailureMode.Closed, new TokenBucketActivity(4, 2))],
            Servers = [new StoreServerState("<i>redis</i>:6379", CircuitState.Open)],
            RejectedKey = key,
        };
        await using var app = await AdminApp.StartAsync(services => services.AddSingleton<ITokenBucketOperations>(fake));

        var html = await PageAsync(app);

        Assert.DoesNotContain("<b>", html);
        Assert.DoesNotContain("<i>", html);
        Assert.DoesNotContain("\" onmouseover", html);
        Assert.Contains("&lt;b&gt;orders&lt;/b&gt; &quot;quoted&quot; &amp; &#x27;single&#x27;", html);
        Assert.Contains("data-key=\"&quot; onmouseover=&quot;alert(1)\"", html);
        Assert.Contains("&lt;i&gt;redis&lt;/i&gt;:6379", html);
    }

    [Fact]
    public async Task The_page_lets_only_its_own_script_and_style_run_with_a_fresh_nonce_each_time()
    {
        await using var app = await AdminApp.StartAsync();

        using var first = await app.AdminAsync(HttpMethod.Get, "");
        using var second = await app.AdminAsync(HttpMethod.Get, "");
        var html = await first.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("text/html", first.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", first.Header("Cache-Control"));
        Assert.Equal("nosniff", first.Header("X-Content-Type-Options"));
        var policy = first.Header("Content-Security-Policy")!;
        var nonce = Nonce().Match(policy).Groups["nonce"].Value;
        Assert.NotEmpty(nonce);
        Assert.Equal(
            $"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            policy);
        Assert.Contains($"<script nonce=\"{nonce}\">", html);
        Assert.Contains($"<style nonce=\"{nonce}\">", html);
        Assert.NotEqual(nonce, Nonce().Match(second.Header("Content-Security-Policy")!).Groups["nonce"].Value);
        // Self-contained: nothing loaded from anywhere.
        Assert.DoesNotContain(" src=", html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
    }

    [Fact]
    public async Task The_page_shows_each_bucket_the_store_and_the_rejected_clients_with_reset_buttons()
    {
        await using var app = await AdminApp.StartAsync();
        await app.RejectAsync("alice", rejections: 3);

        var html = await PageAsync(app);

        Assert.Contains("<td class=\"name\">GET /items/{id}</td>", html);
        Assert.Contains("<td class=\"name\">memory</td>", html);
        Assert.Contains("closed: answering", html);
        Assert.Contains("1 instance shares the limits: while the store cannot decide, a bucket whose failure mode is Open gets all of its limit on this instance.", html);
        Assert.Contains($"<button type=\"button\" data-reset data-bucket=\"GET /items/{{id}}\" data-key=\"alice\">Reset</button>", html);
        Assert.Contains("<td class=\"key\">alice</td><td class=\"num\">3</td>", html); // exact: nothing to add
        Assert.DoesNotContain("id=\"uncertain\"", html);
        Assert.Contains("<option value=\"GET /items/{id}\">GET /items/{id}</option>", html);
        Assert.Contains($"data-api=\"{AdminApp.Pattern}\"", html);
    }

    [Fact]
    public async Task A_count_that_may_be_short_shows_what_was_seen_and_the_most_there_can_have_been()
    {
        var fake = new FakeTokenBucketOperations { RejectedKey = "rotating-17", RejectedUncertain = 2_340 };
        await using var app = await AdminApp.StartAsync(services => services.AddSingleton<ITokenBucketOperations>(fake));

        var html = await PageAsync(app);

        Assert.Contains("<td class=\"key\">rotating-17</td><td class=\"num\">3 <span class=\"count\">(up to 2,343)</span></td>", html);
        Assert.Contains("<p class=\"note\" id=\"uncertain\">A count is the rejections this instance is sure of.", html);
    }

    private static async Task<string> PageAsync(AdminApp app)
    {
        using var response = await app.AdminAsync(HttpMethod.Get, "");
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {html}");
        return html;
    }

    [GeneratedRegex("<script", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex("script-src 'nonce-(?<nonce>[A-Za-z0-9_-]{22})'")]
    private static partial Regex Nonce();
}
