using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using RateGuard;
using RateGuard.Samples;

namespace MvcSample.Controllers;

/// <summary>One action per remaining key kind.</summary>
[ApiController]
public sealed class KeysController : ControllerBase
{
    [HttpGet("/global")]
    [TokenBucket(capacity: 20, rate: 0.2, Key = "global")]
    public object Global() => new { message = "global" };

    [HttpGet("/search")]
    [TokenBucket(capacity: 3, rate: 1, Key = "query:q")]
    public object Search(string q) => new { message = $"results for {q}" };

    [HttpGet("/tenants/{tenant}/orders")]
    [TokenBucket(capacity: 4, rate: 1, Key = "route:tenant")]
    public object Orders(string tenant) => new { message = $"orders of {tenant}" };

    [Authorize]
    [HttpGet("/me")]
    [TokenBucket(capacity: 5, rate: 1, Key = "user")]
    public object Me() => new { message = $"hello {User.Identity!.Name}" };

    [Authorize]
    [HttpGet("/tenant-report")]
    [TokenBucket(capacity: 3, rate: 1, Key = "claim:tenant")]
    public object TenantReport() => new { message = "tenant report" };

    [HttpGet("/shared/a")]
    [TokenBucket(capacity: 4, rate: 1, Bucket = "shared")]
    public object SharedA() => new { message = "a" };

    [HttpGet("/shared/b")]
    [TokenBucket(capacity: 4, rate: 1, Bucket = "shared")]
    public object SharedB() => new { message = "b" };

    [HttpGet("/client")]
    [TokenBucket(capacity: 2, rate: 1, KeyResolver = typeof(ApiClientKeyResolver))]
    public object Client() => new { message = "client" };

    [HttpGet("/api-key")]
    [TokenBucket(capacity: 5, rate: 1, Key = "header:X-Api-Key")]
    public object ApiKey() => new { message = "api key" };
}
