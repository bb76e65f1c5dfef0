using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Operations;
using RateGuard.TestSupport;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// The page's client overrides in a real headless Chromium: an override set with the form is listed, and its Remove
/// button removes it, each through the JSON API under the page's Content-Security-Policy.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
public sealed class AdminOverridesBrowserTests
{
    [Fact]
    public async Task An_override_set_with_the_form_is_listed_and_its_remove_button_removes_it()
    {
        await using var app = await AdminApp.StartAsync(kestrel: true, everyoneIsOperator: true);
        var operations = app.App.Services.GetRequiredService<ITokenBucketOperations>();
        await using var chromium = await HeadlessChromium.StartAsync();
        await using var page = await chromium.OpenPageAsync();
        await page.NavigateAsync(app.PageUrl);

        await page.EvaluateAsync($$"""
            (() => {
              const form = document.getElementById('override');
              form.elements.bucket.value = {{JsonSerializer.Serialize(AdminApp.Bucket)}};
              form.elements.key.value = 'bob <b>';
              form.elements.capacity.value = '5';
              form.elements.rate.value = '0.5';
              form.elements.minutes.value = '30';
              form.requestSubmit();
            })()
            """);
        Assert.Equal("override-set", await AdminBrowserTests.WaitForOutcomeAsync(page, "override-set"));

        var set = Assert.Single(await operations.GetOverridesAsync());
        Assert.Equal((AdminApp.Bucket, "bob <b>", 5, 0.5), (set.Bucket, set.Key, set.Capacity, set.Rate));
        var listed = await page.EvaluateAsync("[...document.querySelectorAll('#overrides td.key')].map(td => td.textContent)");
        Assert.Equal(["bob <b>"], listed.EnumerateArray().Select(k => k.GetString()));

        var button = await page.EvaluateAsync("""
            (() => {
              const button = document.querySelector('#overrides button[data-remove-override]');
              button.scrollIntoView({ block: 'center' });
              const box = button.getBoundingClientRect();
              return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
            })()
            """);
        await page.ClickAsync(button.GetProperty("x").GetDouble(), button.GetProperty("y").GetDouble());
        Assert.Equal("override-removed", await AdminBrowserTests.WaitForOutcomeAsync(page, "override-removed"));

        Assert.Empty(await operations.GetOverridesAsync());
        Assert.Equal(0, (await page.EvaluateAsync("document.querySelectorAll('#overrides').length")).GetInt32());
        AdminBrowserTests.AssertNoViolations(page);
    }
}
