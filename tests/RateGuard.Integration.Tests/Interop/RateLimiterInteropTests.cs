using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using static RateGuard.Integration.Tests.Infrastructure.HttpAssertions;

namespace RateGuard.Integration.Tests.Interop;

/// <summary>An app on ASP.NET Core's AddRateLimiter/UseRateLimiter switches to this project's store without touching its endpoints.</summary>
public sealed class RateLimiterInteropTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    public static TheoryData<bool> Stores => new() { false, true };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_rate_limiter_policy_over_the_store_admits_the_bucket_then_rejects_with_retry_after(bool overRedis)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddTokenBuckets(o =>
        {
            o.Redis = overRedis ? redis.Server.Configuration : null;
            o.KeyPrefix = "interop" + Guid.NewGuid().ToString("N")[..8];
            o.Timeout = TimeSpan.FromSeconds(5);
        });
        var policy = new TokenBucketPolicy("interop", capacity: 3, rate: 0.01);
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy("distributed", context => TokenBucketRateLimitPartition.Get(context, "client-1", policy));
            o.OnRejected = (rejected, _) =>
            {
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    rejected.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
                }
                return ValueTask.CompletedTask;
            };
        });
        await using var app = builder.Build();
        app.UseRateLimiter();
        app.MapGet("/limited", () => "ok").RequireRateLimiting("distributed");
        await app.StartAsync();
        var client = app.GetTestClient();

        var statuses = await client.Statuses("/limited", 3);
        using var rejected = await client.GetAsync("/limited");

        Assert.Equal(Repeat(200, 3), statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        // A token takes 100 s; what is left of it depends on how long the first three requests took.
        Assert.InRange(rejected.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 90, 100);
    }

    [Fact]
    public async Task A_partitioned_limiter_over_redis_keeps_partitions_apart_and_reports_retry_after()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddTokenBuckets(o => { o.Redis = redis.Server.Configuration; o.KeyPrefix = "part" + Guid.NewGuid().ToString("N")[..8]; o.Timeout = TimeSpan.FromSeconds(5); });
        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<Microsoft.Extensions.Hosting.IHostedService>().StartAsync(CancellationToken.None);
        var limiter = TokenBucketRateLimitPartition.CreatePartitioned(new TokenBucketPolicy("part", 1, 0.5), context => context.Request.Headers["X-Key"].ToString());
        var a = new DefaultHttpContext { RequestServices = provider };
        a.Request.Headers["X-Key"] = "a";
        var b = new DefaultHttpContext { RequestServices = provider };
        b.Request.Headers["X-Key"] = "b";

        using var first = await limiter.AcquireAsync(a);
        using var second = await limiter.AcquireAsync(a);
        using var other = await limiter.AcquireAsync(b);

        Assert.True(first.IsAcquired);
        Assert.False(second.IsAcquired);
        Assert.True(second.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        // What is left of the two seconds a token takes, however long the first call took.
        Assert.InRange(retryAfter, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(2));
        Assert.True(other.IsAcquired);
    }
}
