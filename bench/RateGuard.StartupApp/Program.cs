using RateGuard;

// --Endpoints=N maps N endpoints, each with a [TokenBucket] and a route parameter. --Mode chooses what RateGuard does:
// "off" (not wired: the attributes are inert metadata, the app's own cost), "on" (AddTokenBuckets and
// UseTokenBuckets), or "unused" (AddTokenBuckets only). GET /heap answers the managed heap after a full collection.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var count = builder.Configuration.GetValue("Endpoints", 500);
var mode = builder.Configuration.GetValue("Mode", "on");
if (mode is "on" or "unused")
{
    builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
}

var app = builder.Build();
if (mode == "on")
{
    app.UseTokenBuckets();
}
for (var i = 0; i < count; i++)
{
    app.MapGet($"/items{i}/{{id}}", [TokenBucket(capacity: 1_000_000, rate: 1_000)] (int id) => id);
}
app.MapGet("/heap", () => GC.GetTotalMemory(forceFullCollection: true));
app.Run();
