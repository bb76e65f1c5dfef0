using Microsoft.AspNetCore.Mvc;
using RateGuard;

// A declared limit nothing registers: the runtime reads it from this assembly's attributes.
[assembly: TokenBucketLimit("fallback-named", capacity: 3, rate: 0.25, Key = "header:X-Fallback")]

namespace RateGuard.NoGenerator.Fixture;

/// <summary>A controller in an assembly that the generator never saw.</summary>
[ApiController]
public sealed class FallbackController : ControllerBase
{
    [HttpGet("/fallback/mvc")]
    [TokenBucket(capacity: 7, rate: 0.25, Key = "header:X-Fallback")]
    public string Get() => "mvc";

    [HttpGet("/fallback/named")]
    [TokenBucket("fallback-named")]
    public string Named() => "named";
}

/// <summary>A minimal-API handler in an assembly that the generator never saw.</summary>
public static class FallbackHandlers
{
    public static readonly TokenBucketAttribute MinimalLimit = new(6, 0.25) { Key = "query:who" };

    [TokenBucket(capacity: 6, rate: 0.25, Key = "query:who")]
    public static string Handle() => "minimal";
}
