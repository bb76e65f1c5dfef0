using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using RateGuard.Integration.Tests.Process;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// The admin page in a real headless Chromium, driven over the DevTools protocol, against the app on Kestrel with the
/// real operations service and in-memory store: what an operator sees, and what a click on Reset does.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
public sealed class AdminBrowserTests
{
    // A client value that would run script if the page put it in as markup.
    private const string Mallory = "mallory <img src=x onerror=\"window.pwned=1\">";

    /// <summary>Set to 1 to write the realistic page's screenshot to docs/admin-page.png.</summary>
    private const string WriteScreenshotVariable = "RATEGUARD_WRITE_ADMIN_SCREENSHOT";

    [Fact]
    public async Task Reset_clicked_in_the_browser_admits_the_rejected_client_again()
    {
        await using var app = await AdminApp.StartAsync(kestrel: true, everyoneIsOperator: true);
        await app.RejectAsync(Mallory, rejections: 2);
        await app.RejectAsync("bob");
        await using var chromium = await HeadlessChromium.StartAsync();
        await using var page = await chromium.OpenPageAsync();
        await page.SendAsync("Emulation.setDeviceMetricsOverride", new { width = 1280, height = 900, deviceScaleFactor = 1, mobile = false });

        await page.NavigateAsync(app.PageUrl);

        AssertPng(await page.ScreenshotAsync(), 1280, 900);
        var keys = await page.EvaluateAsync("[...document.querySelectorAll('#rejected td.key')].map(td => td.textContent)");
        Assert.Equal([Mallory, "bob"], keys.EnumerateArray().Select(k => k.GetString()));
        // Shown as text: no element was made from the value, and its handler never ran.
        Assert.Equal(0, (await page.EvaluateAsync("document.querySelectorAll('#data img').length")).GetInt32());
        Assert.Equal(JsonValueKind.Undefined, (await page.EvaluateAsync("window.pwned")).ValueKind);

        await InspectAsync(page, "bob");
        var inspected = await page.EvaluateAsync("[...document.querySelectorAll('#inspect-result dd')].map(dd => dd.textContent)");
        Assert.Equal([AdminApp.Bucket, "bob", $"0 of {AdminApp.Capacity}"], inspected.EnumerateArray().Take(3).Select(v => v.GetString()));

        // Marks the data as it is now, so the test can tell when the page has replaced it with fresh data.
        await page.EvaluateAsync("document.getElementById('data').dataset.stale = 'yes'");
        var button = await page.EvaluateAsync($$"""
            (() => {
              const button = [...document.querySelectorAll('#rejected button[data-reset]')].find(b => b.dataset.key === {{JsonSerializer.Serialize(Mallory)}});
              if (!button) return null;
              button.scrollIntoView({ block: 'center' });
              const box = button.getBoundingClientRect();
              return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
            })()
            """);
        Assert.Equal(JsonValueKind.Object, button.ValueKind);
        await page.ClickAsync(button.GetProperty("x").GetDouble(), button.GetProperty("y").GetDouble());

        var outcome = await WaitForOutcomeAsync(page, "reset");
        Assert.Equal("reset", outcome);
        await page.WaitForAsync("document.getElementById('data').dataset.stale === undefined", "the data to be refreshed after the reset");
        Assert.Equal(200, await app.RequestItemAsync(Mallory));
        Assert.Equal(429, await app.RequestItemAsync("bob"));
        AssertNoViolations(page);
    }

    [Fact]
    public async Task A_page_with_several_buckets_and_rejected_clients_renders_whole()
    {
        await using var app = await AdminApp.StartAsync(kestrel: true, everyoneIsOperator: true, itemsEndpoint: false, map: RealisticEndpoints);
        await RealisticTrafficAsync(app);
        await using var chromium = await HeadlessChromium.StartAsync();
        await using var page = await chromium.OpenPageAsync();
        await page.SendAsync("Emulation.setDeviceMetricsOverride", new { width = 1280, height = 900, deviceScaleFactor = 1, mobile = false });
        await page.NavigateAsync(app.PageUrl);

        var buckets = await page.EvaluateAsync("[...document.querySelectorAll('#buckets td.name')].map(td => td.textContent)");
        Assert.Equal(["GET /items/{id}", "POST /exports", "search"], buckets.EnumerateArray().Select(b => b.GetString()));
        var servers = await page.EvaluateAsync("[...document.querySelectorAll('#servers td.name')].map(td => td.textContent)");
        Assert.Equal(["memory"], servers.EnumerateArray().Select(s => s.GetString()));
        Assert.True((await page.EvaluateAsync("document.querySelectorAll('#rejected button[data-reset]').length")).GetInt32() >= 5);
        await InspectAsync(page, "203.0.113.7");
        var inspected = await page.EvaluateAsync("[...document.querySelectorAll('#inspect-result dd')].map(dd => dd.textContent)");
        Assert.Equal(["GET /items/{id}", "203.0.113.7"], inspected.EnumerateArray().Take(2).Select(v => v.GetString()));

        // The whole page in one picture: the viewport as tall as the document.
        var height = (await page.EvaluateAsync("Math.ceil(document.documentElement.scrollHeight)")).GetInt32();
        await page.SendAsync("Emulation.setDeviceMetricsOverride", new { width = 1280, height, deviceScaleFactor = 1, mobile = false });
        var png = await page.ScreenshotAsync();
        AssertPng(png, 1280, height);
        AssertNoViolations(page);

        // Only on request, never in a normal run: the picture of the page in docs/operations.md.
        if (Environment.GetEnvironmentVariable(WriteScreenshotVariable) == "1")
        {
            await File.WriteAllBytesAsync(Path.Combine(SampleBuild.RepositoryRoot(), "docs", "admin-page.png"), png);
        }
    }

    private static void RealisticEndpoints(WebApplication app)
    {
        app.MapGet("/items/{id}", (string id) => id).RequireTokenBucket(20, 5);
        app.MapGet("/search", () => "results").RequireTokenBucket(10, 0.5, key: "header:X-Api-Key", bucket: "search");
        app.MapPost("/exports", () => "queued").RequireTokenBucket(6, 0.05, key: "header:X-Api-Key", cost: 2);
    }

    // Ordinary clients within their limits, and a few that are not: two addresses scraping items, an API key
    // hammering search, and exports beyond their budget.
    private static async Task RealisticTrafficAsync(AdminApp app)
    {
        for (var i = 1; i <= 12; i++)
        {
            await SendAsync(app, HttpMethod.Get, "/items/7", 4, ("X-Test-IP", $"192.0.2.{i * 9}"));
        }
        await SendAsync(app, HttpMethod.Get, "/items/7", 70, ("X-Test-IP", "203.0.113.7"));
        await SendAsync(app, HttpMethod.Get, "/items/7", 32, ("X-Test-IP", "198.51.100.23"));
        await SendAsync(app, HttpMethod.Get, "/search", 28, ("X-Api-Key", "acme-prod-7f3a"));
        await SendAsync(app, HttpMethod.Get, "/search", 14, ("X-Api-Key", "globex-staging"));
        await SendAsync(app, HttpMethod.Get, "/search", 6, ("X-Api-Key", "initech-reports"));
        await SendAsync(app, HttpMethod.Post, "/exports", 5, ("X-Api-Key", "acme-prod-7f3a"));
        await SendAsync(app, HttpMethod.Post, "/exports", 4, ("X-Api-Key", "umbrella-etl"));
    }

    private static async Task SendAsync(AdminApp app, HttpMethod method, string path, int count, (string Name, string Value) header)
    {
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.TryAddWithoutValidation(header.Name, header.Value);
            using var response = await app.Client.SendAsync(request);
            Assert.True((int)response.StatusCode is 200 or 429, $"{method} {path}: {(int)response.StatusCode}");
        }
    }

    private static async Task InspectAsync(DevToolsSession page, string key)
    {
        await page.EvaluateAsync($$"""
            (() => {
              const form = document.getElementById('inspect');
              form.elements.bucket.value = {{JsonSerializer.Serialize(AdminApp.Bucket)}};
              form.elements.key.value = {{JsonSerializer.Serialize(key)}};
              form.requestSubmit();
            })()
            """);
        Assert.Equal("inspected", await WaitForOutcomeAsync(page, "inspected"));
    }

    // Polls the page's status until the action it reports has finished; an error fails with the page's own words.
    internal static async Task<string> WaitForOutcomeAsync(DevToolsSession page, string expected)
    {
        var outcome = (await page.WaitForAsync(
            $"(() => {{ const o = document.getElementById('status').dataset.outcome; return o === '{expected}' || o === 'error' ? o : null; }})()",
            $"the page to report '{expected}'")).GetString()!;
        if (outcome == "error")
        {
            var text = (await page.EvaluateAsync("document.getElementById('status').textContent")).GetString();
            Assert.Fail($"The page reported an error instead of '{expected}': {text}\n{string.Join("\n", page.Messages)}");
        }
        return outcome;
    }

    // The page's own script and style ran under the policy, and nothing was blocked or thrown.
    internal static void AssertNoViolations(DevToolsSession page)
    {
        var problems = page.Messages.Where(m =>
            m.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)
            || m.StartsWith("exception", StringComparison.Ordinal)
            || m.StartsWith("log error", StringComparison.Ordinal)
            || m.StartsWith("console.error", StringComparison.Ordinal)).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    // A PNG of the size asked for, with content: text and tables compress far less than a blank page.
    private static void AssertPng(byte[] png, int width, int height)
    {
        Assert.True(png.Length > 8 + 25, $"a {png.Length}-byte screenshot is no PNG");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.True(png.Length > 20_000, $"the screenshot is {png.Length} bytes: too small for a page of tables");
    }
}
