using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using RateGuard;
using RateGuard.LoadApp;
using RedisRateLimiting;
using StackExchange.Redis;

// The load harness's app: every contender on one host. Store and deny cache come from --TokenBuckets:*; the
// seed-style limiter's clock skew from --Seed:SkewSeconds.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddTokenBuckets(builder.Configuration.GetSection("TokenBuckets"));
var redisConfiguration = builder.Configuration["TokenBuckets:Redis"];
SeedStyleLimiter? seed = null, seedAccuracy = null;
IConnectionMultiplexer? connection = null;
if (!string.IsNullOrEmpty(redisConfiguration))
{
    var skew = builder.Configuration.GetValue<long>("Seed:SkewSeconds");
    connection = await ConnectionMultiplexer.ConnectAsync(redisConfiguration);
    seed = new SeedStyleLimiter(connection, 1_000_000_000, 1_000_000, skew);
    seedAccuracy = new SeedStyleLimiter(connection, 100, 50, skew);
}

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
    // The RedisRateLimiting package's Redis token bucket, through the same ASP.NET Core rate limiter: one partition
    // for everyone, and one per X-Client header. Only with a Redis configured.
    if (connection is not null)
    {
        o.AddPolicy("rrl-global", _ => RedisRateLimitPartition.GetTokenBucketRateLimiter("global", _ => RedisRateLimitingOptions(connection)));
        o.AddPolicy("rrl-keys", context => RedisRateLimitPartition.GetTokenBucketRateLimiter(
            "client:" + context.Request.Headers["X-Client"].ToString(), _ => RedisRateLimitingOptions(connection)));
    }
});

using var counts = new DecisionCounts();
var app = builder.Build();
// The seed-style limiter, as a plain middleware in front of its endpoints: /seed and /seed-acc by IP, /seed-keys by
// the X-Client header.
app.Use(async (context, next) =>
{
    var (limiter, client) = context.Request.Path.Value switch
    {
        "/seed" => (seed, context.Connection.RemoteIpAddress?.ToString()),
        "/seed-acc" => (seedAccuracy, context.Connection.RemoteIpAddress?.ToString()),
        "/seed-keys" => (seed, "client:" + context.Request.Headers["X-Client"].ToString()),
        _ => (null, null),
    };
    if (limiter is null || await limiter.AllowAsync(client ?? ""))
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
app.MapGet("/rg2", [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000)][TokenBucket(capacity: 1_000_000_000, rate: 1_000_000, Key = "global")] () => "pong");
app.MapGet("/hot", [TokenBucket(capacity: 10, rate: 1)] () => "pong");
app.MapGet("/acc", [TokenBucket(capacity: 100, rate: 50, Key = "global")] () => "pong");
// The fault harness: one bucket per client (X-Client) that load keeps drained, so every fault shows in the count.
app.MapGet("/faults", [TokenBucket(capacity: 100, rate: 100, Key = "header:X-Client")] () => "pong");
app.MapGet("/seed", () => "pong");
// The hot-path benchmark: one bucket for everyone, and one per client (X-Client), every request admitted, for
// RateGuard, the seed-style middleware and the RedisRateLimiting package.
app.MapGet("/rg-global", [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000, Key = "global")] () => "pong");
app.MapGet("/rg-keys", [TokenBucket(capacity: 1_000_000_000, rate: 1_000_000, Key = "header:X-Client")] () => "pong");
app.MapGet("/seed-keys", () => "pong");
app.MapGet("/rrl-global", () => "pong").RequireRateLimiting("rrl-global");
app.MapGet("/rrl-keys", () => "pong").RequireRateLimiting("rrl-keys");
// The fallback scenario: one global bucket shared by every instance, answered with a Content-Length so the
// harness's own client can read responses back to back.
app.MapGet("/shared", static context =>
{
    context.Response.ContentLength = 4;
    return context.Response.WriteAsync("pong");
}).WithMetadata(new TokenBucketAttribute(capacity: 100, rate: 50) { Key = "global" });
app.MapGet("/stats", () => counts.Report());
app.MapDelete("/stats", () => counts.Clear());
// Bytes the process has allocated since it started, for allocations per request over a round.
app.MapGet("/alloc", () => GC.GetTotalAllocatedBytes(precise: true).ToString(System.Globalization.CultureInfo.InvariantCulture));
// Allocations by type, sampled, when started with --AllocationSampling=true: GET to read, DELETE to start again.
using var sampler = builder.Configuration.GetValue<bool>("AllocationSampling") ? new AllocationSampler() : null;
app.MapGet("/alloc/types", () => sampler?.Report() ?? "start the app with --AllocationSampling=true");
app.MapDelete("/alloc/types", () => sampler?.Clear());
app.MapGet("/seed-acc", () => "pong");
app.Run();

static RedisTokenBucketRateLimiterOptions RedisRateLimitingOptions(IConnectionMultiplexer connection) => new()
{
    ConnectionMultiplexerFactory = () => connection,
    TokenLimit = 1_000_000_000,
    TokensPerPeriod = 1_000_000,
    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
};
