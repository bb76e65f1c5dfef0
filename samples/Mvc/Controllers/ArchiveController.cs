using Microsoft.AspNetCore.Mvc;
using RateGuard;

namespace MvcSample.Controllers;

/// <summary>A controller-level limit with PerEndpoint: each action has a bucket of its own, named after its route.</summary>
[ApiController]
[Route("archive")]
[TokenBucket(capacity: 2, rate: 1, Key = "ip", PerEndpoint = true)]
public sealed class ArchiveController : ControllerBase
{
    [HttpGet("2024")]
    public object Year2024() => new { message = "2024" };

    [HttpGet("2025")]
    public object Year2025() => new { message = "2025" };
}
