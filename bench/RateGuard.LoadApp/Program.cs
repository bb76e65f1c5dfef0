using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using RateGuard;
using RateGuard.LoadApp;
using StackExchange.Redis;

// The load harness's app: every contender on one host. Store and deny cache come from --TokenBuckets:*; the
// seed-style limiter's clock skew from --Seed:SkewSeconds.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
builder.Services.AddRateLimiter(o =>
{
    o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
    o.AddPolicy("tb", context => RateLimitPartition.GetTokenBucketLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "", _ => new TokenBucketRateLimiterOptions
    {
        TokenLimit = 1_000_000_000,
        TokensPerPeriod = 1_000_000,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    }));
});

var redisConfiguration = builder.Configuration["TokenBuckets:Redis"];
SeedStyleLimiter? seed = null, seedAccuracy = null;
if (!string.IsNullOrEmpty(redisConfiguration))
{
    var skew = builder.Configuration.GetValue<long>("Seed:SkewSeconds");
    var connection = await ConnectionMultiplexer.ConnectAsync(redisConfiguration);
    seed = new SeedStyleLimiter(connection, 1_000_000_000, 1_000_000, skew);
    seedAccuracy = new SeedStyleLimiter(connection, 100, 50, skew);
}

using var counts = new DecisionCounts();
var app = builder.Build();
// The seed-style limiter, as a plain middleware in front of its two endpoints.
app.Use(async (context, next) =>
{
    var limiter = context.Request.Path.Value switch
    {
        "/seed" => seed,
        "/seed-acc" => seedAccuracy,
        _ => null,
    };
    if (limiter is null || await limiter.AllowAsync(context.Connection.RemoteIpAddress?.ToString() ?? ""))
    {
        await next(context);
        return;
    }
    context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
});
app.UseRateLimiter();
app.UseTokenBuckets();

app.MapGet("/plain", () => "pong");
app.MapGet("/aspnet", () => "pong").RequireRateLimiting("tb");
app.MapGet("/rg", [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000)] () => "pong");
app.MapGet("/rg2", [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000)] [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000, Key = "global")] () => "pong");
app.MapGet("/hot", [TokenBucket(capacity: 10, rate: 1)] () => "pong");
app.MapGet("/acc", [TokenBucket(capacity: 100, rate: 50, Key = "global")] () => "pong");
// The fault harness: one bucket per client (X-Client) that load keeps drained, so every fault shows in the count.
app.MapGet("/faults", [TokenBucket(capacity: 100, rate: 100, Key = "header:X-Client")] () => "pong");
app.MapGet("/seed", () => "pong");
// The fallback scenario: one global bucket shared by every instance, answered with a Content-Length so the
// harness's own client can read responses back to back.
app.MapGet("/shared", static context =>
{
    context.Response.ContentLength = 4;
    return context.Response.WriteAsync("pong");
}).WithMetadata(new TokenBucketAttribute(capacity: 100, rate: 50) { Key = "global" });
app.MapGet("/stats", () => counts.Report());
app.MapDelete("/stats", () => counts.Clear());
app.MapGet("/seed-acc", () => "pong");
app.Run();
