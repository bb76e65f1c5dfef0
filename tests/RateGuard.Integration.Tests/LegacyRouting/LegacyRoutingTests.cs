using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace RateGuard.Integration.Tests.LegacyRouting;

/// <summary>
/// An app on MVC's legacy routing (EnableEndpointRouting = false, UseMvc) whose controllers carry limits: that routing
/// never applies them, so the app does not start, and says what to change. The analyzer reports the same at build
/// (RG0015), which this file suppresses to show the second line of defence.
/// </summary>
public sealed class LegacyRoutingTests
{
    [Fact]
    public async Task An_app_whose_limited_controllers_route_the_legacy_way_does_not_start_and_says_what_to_change()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(typeof(LimitedArticlesController)));

        Assert.Contains("MVC runs with legacy routing (MvcOptions.EnableEndpointRouting is false), where token-bucket limits are never applied", error.Message);
        Assert.Contains("LimitedArticlesController.Create", error.Message);
        Assert.Contains("remove EnableEndpointRouting = false, and map them with app.MapControllers()", error.Message);
    }

    [Fact]
    public async Task An_app_on_legacy_routing_without_limited_controllers_starts_and_serves()
    {
        await using var app = await StartAsync(typeof(UnlimitedTagsController));

        using var response = await app.GetTestClient().GetAsync("/tags");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<WebApplication> StartAsync(Type controller)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets();
#pragma warning disable RG0015 // the build's report of what this test shows at startup
        builder.Services.AddMvc(o => o.EnableEndpointRouting = false).ConfigureApplicationPartManager(parts =>
        {
            parts.ApplicationParts.Clear();
            parts.ApplicationParts.Add(new AssemblyPart(typeof(LegacyRoutingTests).Assembly));
            parts.FeatureProviders.Remove(parts.FeatureProviders.OfType<ControllerFeatureProvider>().Single());
            parts.FeatureProviders.Add(new Only(controller));
        });
        var app = builder.Build();
        app.UseTokenBuckets();
#pragma warning disable CS0618 // UseMvc is what the app being described calls
        app.UseMvc();
#pragma warning restore CS0618, RG0015
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return app;
    }

    private sealed class Only(Type controller) : ControllerFeatureProvider
    {
        protected override bool IsController(System.Reflection.TypeInfo typeInfo) => typeInfo.AsType() == controller;
    }
}

[Route("articles")]
public sealed class LimitedArticlesController : Controller
{
    [HttpPost]
    [TokenBucket(10, 1)]
    public string Create() => "created";
}

[Route("tags")]
public sealed class UnlimitedTagsController : Controller
{
    [HttpGet]
    public string List() => "tags";
}
