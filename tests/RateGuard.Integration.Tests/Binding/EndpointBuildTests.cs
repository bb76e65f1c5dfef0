using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Primitives;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Testing;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Binding;

/// <summary>
/// Each endpoint is built once, by ASP.NET Core, and the endpoint routing selects is the one matched to its gates at
/// startup: nothing is built again on a first request.
/// </summary>
public sealed class EndpointBuildTests
{
    [Fact]
    public async Task Minimal_api_and_route_group_endpoints_are_built_once_and_matched_at_startup()
    {
        var builds = new BuildCounter();
        await using var app = await StartAsync(app =>
        {
            app.MapGet("/items/{id}", [TokenBucket(2, 0.001)] (int id) => id).AddEndpointFilterFactory(builds.Factory);
            app.MapGet("/plain", () => "plain").AddEndpointFilterFactory(builds.Factory);
            var group = app.MapGroup("/group").AddEndpointFilterFactory(builds.Factory).RequireTokenBucket(2, 0.001);
            group.MapGet("/a/{id}", (int id) => id);
            group.MapGet("/b", [TokenBucket(5, 0.001)] () => "b");
        });
        var statuses = new List<int>();
        foreach (var url in new[] { "/items/1", "/items/1", "/items/1", "/plain", "/group/b", "/group/a/1", "/group/a/1" })
        {
            using var response = await app.Client.GetAsync(url);
            statuses.Add((int)response.StatusCode);
        }

        // The group's limit is one bucket for both of its endpoints: /group/b took one of its two tokens.
        Assert.Equal([200, 200, 429, 200, 200, 200, 429], statuses);
        Assert.Equal(4, builds.Total);
        Assert.All(builds.PerHandler.Values, count => Assert.Equal(1, count));
        Assert.Equal(4, app.Selected.Distinct().Count());
        Assert.Empty(app.MatchedOnRequest);
    }

    [Fact]
    public async Task Mvc_actions_are_built_once_per_endpoint_and_matched_at_startup()
    {
        var builds = new BuildCounter();
        await using var app = await StartAsync(app =>
        {
            app.MapControllers().AddEndpointFilterFactory(builds.Factory);
            app.MapControllerRoute("conventional", "{controller}/{action}"); // the filter above covers these too
        }, mvc: true);
        var actions = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.Where(e => e.Metadata.GetMetadata<ControllerActionDescriptor>() is not null).ToList();

        var statuses = new List<int>();
        // Not the binding controller's POST: another test counts the bodies it constructs.
        for (var i = 0; i < 2; i++)
        {
            using var response = await app.Client.GetAsync("/Conventional/First");
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal([200, 429], statuses);
        Assert.NotEmpty(actions);
        foreach (var (method, count) in builds.PerHandler)
        {
            var endpoints = actions.Count(e => e.Metadata.GetMetadata<ControllerActionDescriptor>()!.MethodInfo == method);
            Assert.Equal(endpoints, count);
        }
        Assert.NotEmpty(app.Selected);
        Assert.Empty(app.MatchedOnRequest);
    }

    [Fact]
    public async Task An_invalid_limit_still_stops_the_app_at_startup_naming_the_endpoint()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(app =>
            app.MapGet("/broken", () => "never").WithMetadata(new TokenBucketAttribute(int.Parse("0"), 1))));

        Assert.Contains("/broken", error.Message);
        Assert.Contains("capacity", error.Message);
    }

    [Fact]
    public async Task An_endpoint_that_a_dynamic_source_adds_after_startup_gets_its_limits_without_a_first_request_build()
    {
        var dynamic = new DynamicEndpointSource();
        await using var app = await StartAsync(app => ((IEndpointRouteBuilder)app).DataSources.Add(dynamic));
        using var before = await app.Client.GetAsync("/late");

        dynamic.Add(new RouteEndpoint(
            context => context.Response.WriteAsync("late"),
            RoutePatternFactory.Parse("/late"),
            0,
            new EndpointMetadataCollection(new TokenBucketAttribute(int.Parse("2"), 0.001) { Key = "global" }),
            "late"));
        var statuses = await app.Client.Statuses("/late", 3);

        Assert.Equal(404, (int)before.StatusCode);
        Assert.Equal(Repeat(200, 2).Then(429), statuses);
        Assert.Empty(app.MatchedOnRequest);
    }

    private static async Task<BuildApp> StartAsync(Action<WebApplication> map, bool mvc = false)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders().AddFakeLogging().AddFilter("RateGuard", LogLevel.Debug);
        builder.Services.AddTokenBuckets();
        builder.Services.UseTestClientAddresses();
        if (mvc)
        {
            builder.Services.AddControllers().AddApplicationPart(typeof(BindingController).Assembly);
        }
        var app = builder.Build();
        var selected = new ConcurrentBag<Endpoint>();
        app.UseRouting();
        app.UseTokenBuckets();
        app.Use((context, next) =>
        {
            if (context.GetEndpoint() is { } endpoint)
            {
                selected.Add(endpoint);
            }
            return next(context);
        });
        map(app);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return new BuildApp(app, selected);
    }

    private sealed class BuildApp(WebApplication app, ConcurrentBag<Endpoint> selected) : IAsyncDisposable
    {
        public HttpClient Client { get; } = app.GetTestClient();

        public IServiceProvider Services => app.Services;

        /// <summary>The endpoints routing selected for the requests sent so far.</summary>
        public IReadOnlyCollection<Endpoint> Selected => selected;

        /// <summary>
        /// The endpoints whose limits were matched on a request, not when the app started or its endpoints changed: an
        /// endpoint routing selects that is not the one matched to its gates would be one of them.
        /// </summary>
        public IReadOnlyList<string> MatchedOnRequest =>
            app.Services.GetRequiredService<FakeLogCollector>().GetSnapshot().Where(l => l.Id.Name == "EndpointMatchedOnRequest").Select(l => l.Message).ToList();

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }

    /// <summary>An endpoint filter factory that counts how often ASP.NET Core builds each handler's request delegate.</summary>
    private sealed class BuildCounter
    {
        public ConcurrentDictionary<MethodInfo, int> PerHandler { get; } = new();

        public int Total => PerHandler.Values.Sum();

        public EndpointFilterDelegate Factory(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
        {
            PerHandler.AddOrUpdate(context.MethodInfo, 1, static (_, count) => count + 1);
            return next;
        }
    }

    /// <summary>Endpoints that appear after startup, announced through the change token, as a dynamic source does.</summary>
    private sealed class DynamicEndpointSource : EndpointDataSource
    {
        private readonly List<Endpoint> _endpoints = [];
        private CancellationTokenSource _changed = new();

        public override IReadOnlyList<Endpoint> Endpoints
        {
            get
            {
                lock (_endpoints)
                {
                    return [.. _endpoints];
                }
            }
        }

        public override IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

        public void Add(Endpoint endpoint)
        {
            lock (_endpoints)
            {
                _endpoints.Add(endpoint);
            }
            Interlocked.Exchange(ref _changed, new CancellationTokenSource()).Cancel();
        }
    }
}
