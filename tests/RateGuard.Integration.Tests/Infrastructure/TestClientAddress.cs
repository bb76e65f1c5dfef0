using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace RateGuard.Integration.Tests.Infrastructure;

/// <summary>
/// The test server has no remote address; this gives each request one, from <c>X-Test-IP</c> or 127.0.0.1, so tests
/// can play several clients.
/// </summary>
public sealed class TestClientAddress : IStartupFilter
{
    public const string Header = "X-Test-IP";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            var ip = context.Request.Headers[Header].ToString();
            context.Connection.RemoteIpAddress = IPAddress.Parse(string.IsNullOrEmpty(ip) ? "127.0.0.1" : ip);
            return nextMiddleware(context);
        });
        next(app);
    };
}
