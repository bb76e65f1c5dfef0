using Microsoft.AspNetCore.Mvc;

namespace RateGuard.NoGenerator.Fixture;

/// <summary>A controller in an assembly that the generator never saw.</summary>
[ApiController]
public sealed class FallbackController : ControllerBase
{
    [HttpGet("/fallback/mvc")]
    [TokenBucket(capacity: 7, rate: 0.25, Key = "header:X-Fallback")]
    public string Get() => "mvc";
}

/// <summary>A minimal-API handler in an assembly that the generator never saw.</summary>
public static class FallbackHandlers
{
    public static readonly TokenBucketAttribute MinimalLimit = new(6, 0.25) { Key = "query:who" };

    [TokenBucket(capacity: 6, rate: 0.25, Key = "query:who")]
    public static string Handle() => "minimal";
}
