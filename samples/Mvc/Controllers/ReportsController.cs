using Microsoft.AspNetCore.Mvc;
using RateGuard;

namespace MvcSample.Controllers;

/// <summary>
/// A controller-level limit per API key: one bucket, "ReportsController", that every action draws from, combined with an
/// action-level limit and an opt-out.
/// </summary>
[ApiController]
[Route("reports")]
[TokenBucket(capacity: 5, rate: 1, Key = "header:X-Api-Key")]
public sealed class ReportsController : ControllerBase
{
    // Only the controller's bucket applies, shared with the other actions.
    [HttpGet("daily")]
    public object Daily() => new { message = "daily" };

    // Both the controller's bucket and this action's own must admit.
    [HttpGet("expensive")]
    [TokenBucket(capacity: 2, rate: 1)]
    public object Expensive() => new { message = "expensive" };

    // Opted out of the controller's bucket.
    [HttpGet("health")]
    [DisableTokenBucket]
    public object Health() => new { message = "unlimited" };
}
