using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.Testing;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// An app with a limited endpoint and the admin endpoints behind <see cref="Policy"/>, on the test server or on
/// Kestrel on a loopback port (for a real browser).
/// </summary>
public sealed class AdminApp : IAsyncDisposable
{
    public const string Pattern = "/admin/rate-limits";
    public const string Policy = "rate-limit-admin";

    /// <summary>The header the limited endpoint keys on: any text a client likes, hostile or not.</summary>
    public const string ClientHeader = "X-Client";

    /// <summary>The limited endpoint's bucket: a default name with a space, slashes and braces.</summary>
    public const string Bucket = "GET /items/{id}";

    /// <summary>The limited endpoint's capacity; its rate is so slow that a rejected client stays rejected.</summary>
    public const int Capacity = 2;

    public const double Rate = 0.001;

    private AdminApp(WebApplication app, HttpClient client)
    {
        App = app;
        Client = client;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    /// <summary>The admin page's absolute URL.</summary>
    public Uri PageUrl => new(Client.BaseAddress!, Pattern);

    public static async Task<AdminApp> StartAsync(
        Action<IServiceCollection>? services = null,
        bool kestrel = false,
        bool everyoneIsOperator = false,
        Action<WebApplication>? map = null,
        bool itemsEndpoint = true)
    {
        // A port found free can be taken before Kestrel binds it; a few tries make that race harmless.
        for (var attempt = 1; ; attempt++)
        {
            var port = kestrel ? PortRange.Admin.Next() : 0;
            var app = Build(services, kestrel, port, everyoneIsOperator, map, itemsEndpoint);
            try
            {
                await app.StartAsync();
            }
            catch (IOException) when (kestrel && attempt < 5)
            {
                await app.DisposeAsync();
                continue;
            }
            var client = kestrel
                ? new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) }
                : app.GetTestClient();
            return new AdminApp(app, client);
        }
    }

    private static WebApplication Build(Action<IServiceCollection>? services, bool kestrel, int port, bool everyoneIsOperator, Action<WebApplication>? map, bool itemsEndpoint)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        if (kestrel)
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }
        builder.Logging.ClearProviders();
        builder.Services.AddTokenBuckets();
        builder.Services.UseTestClientAddresses();
        builder.Services.AddAuthentication(AdminTestAuthentication.SchemeName)
            .AddScheme<AdminTestAuthenticationOptions, AdminTestAuthentication>(AdminTestAuthentication.SchemeName, o => o.EveryoneIsOperator = everyoneIsOperator);
        builder.Services.AddAuthorization(o => o.AddPolicy(Policy, p => p.RequireRole(AdminTestAuthentication.OperatorRole)));
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseTokenBuckets();
        if (itemsEndpoint)
        {
            app.MapGet("/items/{id}", (string id) => id).RequireTokenBucket(Capacity, Rate, key: "header:" + ClientHeader);
        }
        map?.Invoke(app);
        app.MapTokenBucketAdmin(Pattern, Policy);
        return app;
    }

    /// <summary>One request of <paramref name="client"/> to the limited endpoint; its status code.</summary>
    public async Task<int> RequestItemAsync(string client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/items/1");
        request.Headers.TryAddWithoutValidation(ClientHeader, client);
        using var response = await Client.SendAsync(request);
        return (int)response.StatusCode;
    }

    /// <summary>Makes <paramref name="client"/> use up its bucket and get rejected <paramref name="rejections"/> times.</summary>
    public async Task RejectAsync(string client, int rejections = 1)
    {
        for (var i = 0; i < Capacity; i++)
        {
            Assert.Equal(200, await RequestItemAsync(client));
        }
        for (var i = 0; i < rejections; i++)
        {
            Assert.Equal(429, await RequestItemAsync(client));
        }
    }

    /// <summary>A request to an admin route, as an operator unless <paramref name="user"/> says otherwise.</summary>
    public Task<HttpResponseMessage> AdminAsync(HttpMethod method, string route, string? json = null, string contentType = "application/json", string? user = "operator", string roles = AdminTestAuthentication.OperatorRole)
    {
        var request = new HttpRequestMessage(method, route.Length == 0 || route[0] == '?' ? Pattern + route : $"{Pattern}/{route}");
        if (user is not null)
        {
            request.Headers.Add(AdminTestAuthentication.UserHeader, user);
            request.Headers.Add(AdminTestAuthentication.RolesHeader, roles);
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = contentType.Length == 0 ? null : MediaTypeHeaderValue.Parse(contentType);
        }
        return Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
    }
}
