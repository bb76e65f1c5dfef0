using Microsoft.AspNetCore.Mvc;

namespace RateGuard.Integration.Tests.NamedLimits;

/// <summary>An MVC action that uses the declared limit by name.</summary>
[ApiController]
[Route("named")]
public sealed class NamedLimitController : ControllerBase
{
    [HttpPost("archive")]
    [TokenBucket(NamedLimitApp.Writes)]
    public string Archive() => "archived";
}
