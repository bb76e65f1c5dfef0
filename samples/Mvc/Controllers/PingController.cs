using Microsoft.AspNetCore.Mvc;
using RateGuard;

namespace MvcSample.Controllers;

[ApiController]
public sealed class PingController : ControllerBase
{
    // The seed's example: 10 requests at once per client IP, refilled at 5 per second.
    [HttpGet("/ping")]
    [TokenBucket(capacity: 10, rate: 5, Key = "ip")]
    public object Ping() => new { message = "pong" };
}
