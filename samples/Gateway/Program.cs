using RateGuard;

// A YARP gateway whose routes carry their limits in their Metadata (see appsettings.json):
//   api          /api/{**rest}          10 at once per client IP, 5 per second back, in Spring Cloud Gateway's words
//   reports      /reports/{**rest}      3 at once per X-Api-Key header, one every 2 seconds, in RateGuard's words
//   completions  /completions/{**rest}  1000 tokens per X-Api-Key header, 10 a second back, each request charged the
//                                       tokens the backend reports in X-Tokens-Used (at most 4000), as an LLM's would be
//   open         /open/{**rest}         no limit
// It proxies to a small backend that it starts itself on a free loopback port (--Backend:Port=<port> chooses one).
var backend = await Backend.StartAsync(args);

// The content root is the output directory, so appsettings.json is found wherever the gateway is started from.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["ReverseProxy:Clusters:backend:Destinations:local:Address"] = backend.Address,
});

// TokenBuckets:Redis (for example --TokenBuckets:Redis=127.0.0.1:6379) selects Redis; without it, buckets are in memory.
builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddTokenBuckets();

var app = builder.Build();
app.UseTokenBuckets();
app.MapReverseProxy().WithTokenBuckets();
app.Logger.LogInformation("Proxying to the backend at {Address}", backend.Address);

await app.RunAsync();
await backend.App.StopAsync();
await backend.App.DisposeAsync();

/// <summary>
/// The service behind the gateway: answers every path with its own name and the path it was asked for. Under
/// /completions it stands in for an LLM, and reports the tokens an answer used in X-Tokens-Used: those asked for in
/// ?tokens=, or 100.
/// </summary>
internal sealed record Backend(WebApplication App, string Address)
{
    public static async Task<Backend> StartAsync(string[] args)
    {
        var settings = new ConfigurationBuilder().AddCommandLine(args).Build();
        var port = int.TryParse(settings["Backend:Port"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var chosen) ? chosen : 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapFallback((HttpContext context) =>
        {
            if (context.Request.Path.StartsWithSegments("/completions"))
            {
                var tokens = int.TryParse(context.Request.Query["tokens"].ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var asked) ? asked : 100;
                context.Response.Headers["X-Tokens-Used"] = tokens.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            return $"backend: {context.Request.Path}";
        });
        await app.StartAsync();
        var address = app.Urls.Single();
        return new Backend(app, address.TrimEnd('/') + "/");
    }
}
