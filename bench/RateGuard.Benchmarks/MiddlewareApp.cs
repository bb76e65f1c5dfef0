using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Http;

namespace RateGuard.Benchmarks;

/// <summary>
/// An app reduced to what a limited request passes through: <c>UseTokenBuckets()</c> with the in-memory store, in front
/// of an endpoint that does nothing. Its endpoints are the methods of <see cref="Limits"/> with their attributes, as a
/// minimal API maps them, and each request arrives with its endpoint already chosen, as routing leaves it, so what is
/// measured is the middleware: the gate's key, the client's rules, the decision and the headers.
/// </summary>
internal sealed class MiddlewareApp : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly RequestDelegate _pipeline;
    private readonly Dictionary<string, Endpoint> _endpoints = new(StringComparer.Ordinal);

    public MiddlewareApp(Action<IServiceCollection>? configure, params string[] methods)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddTokenBuckets();
        configure?.Invoke(services);
        foreach (var method in methods)
        {
            _endpoints.Add(method, Endpoint(method));
        }
        // Without a route builder the middleware reads the app's endpoint data source, as it does on an app that routes
        // through UseEndpoints alone.
        services.AddSingleton<EndpointDataSource>(new DefaultEndpointDataSource(_endpoints.Values));
        _services = services.BuildServiceProvider();
        var app = new ApplicationBuilder(_services);
        app.UseTokenBuckets();
        app.Run(static _ => Task.CompletedTask);
        _pipeline = app.Build();
    }

    public IServiceProvider Services => _services;

    /// <summary>The bucket of the first limit of <paramref name="method"/>'s endpoint, by the name the app gave it.</summary>
    public string BucketOf(string method) => _services.GetRequiredService<EndpointGateTable>().Get(_endpoints[method])!.Gates[0].Policy.Name;

    /// <summary>A request to <paramref name="method"/>'s endpoint with <paramref name="headers"/>, reused for every call as a connection reuses its context.</summary>
    public RepeatedRequest Request(string method, params (string Name, string Value)[] headers)
    {
        var context = Contexts.Create();
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }
        context.SetEndpoint(_endpoints[method]);
        return new RepeatedRequest(_pipeline, context);
    }

    public void Dispose() => _services.Dispose();

    // What a minimal API puts on an endpoint for a handler: the method and its attributes.
    private static Endpoint Endpoint(string method)
    {
        var handler = typeof(Limits).GetMethod(method, BindingFlags.Public | BindingFlags.Static)
            ?? throw new InvalidOperationException($"Limits has no method {method}.");
        var builder = new RouteEndpointBuilder(static _ => Task.CompletedTask, RoutePatternFactory.Parse("/" + method), 0)
        {
            DisplayName = "GET /" + method,
        };
        builder.Metadata.Add(handler);
        foreach (var attribute in handler.GetCustomAttributes())
        {
            builder.Metadata.Add(attribute);
        }
        return builder.Build();
    }
}
