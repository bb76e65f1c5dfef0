using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Operations;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>The page's client overrides: the list with each expiry and a Remove button, and the form that sets one.</summary>
public sealed class AdminOverridesPageTests
{
    [Fact]
    public async Task The_page_lists_each_override_encoded_with_its_expiry_and_a_remove_button_and_a_form_to_set_one()
    {
        await using var app = await AdminApp.StartAsync();
        var mallory = "<script>alert(1)</script>";
        await Operations(app).SetOverrideAsync(AdminApp.Bucket, mallory, 7, 0.25, TimeSpan.FromMinutes(90));
        var expiresAt = (await Operations(app).GetOverridesAsync()).Single().ExpiresAt.UtcDateTime;

        using var response = await app.AdminAsync(HttpMethod.Get, "");
        var html = await response.Content.ReadAsStringAsync();

        var encoded = "&lt;script&gt;alert(1)&lt;/script&gt;";
        Assert.Contains("<h2>Client overrides</h2>", html);
        Assert.Contains($"<tr><td class=\"name\">GET /items/{{id}}</td><td class=\"key\">{encoded}</td><td class=\"num\">7</td><td class=\"num\">0.25/s</td>", html);
        Assert.Contains($"<time datetime=\"{expiresAt:O}\">{expiresAt:yyyy-MM-dd HH:mm:ss} UTC</time> <span class=\"count\">(89 min left)</span>", html);
        Assert.Contains($"<button type=\"button\" data-remove-override data-bucket=\"GET /items/{{id}}\" data-key=\"{encoded}\">Remove</button>", html);
        Assert.DoesNotContain(mallory, html);
        Assert.Contains("<form id=\"override\">", html);
        Assert.Contains("<input name=\"capacity\" type=\"number\" required min=\"1\" step=\"1\" class=\"short\">", html);

        // The refreshed data section carries the list too.
        using var data = await app.AdminAsync(HttpMethod.Get, "?part=data");
        Assert.Contains("data-remove-override", await data.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Overrides_that_cannot_be_read_leave_the_rest_of_the_page_and_say_why()
    {
        await using var app = await AdminApp.StartAsync(services => services.AddSingleton<ITokenBucketOperations>(new FakeTokenBucketOperations()));

        using var page = await app.AdminAsync(HttpMethod.Get, "");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<td class=\"name\">GET /items/{id}</td>", html);
        Assert.Contains("<p class=\"empty\" id=\"overrides-problem\">FakeTokenBucketOperations does not keep client overrides.</p>", html);
    }

    private static ITokenBucketOperations Operations(AdminApp app) => app.App.Services.GetRequiredService<ITokenBucketOperations>();
}
