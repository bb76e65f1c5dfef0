using Microsoft.AspNetCore.Mvc;

namespace RateGuard.Generated.Fixture;

[ApiController]
public sealed class LibraryController : ControllerBase
{
    [HttpGet("/library/mvc")]
    [TokenBucket(capacity: 8, rate: 0.25, Key = "header:X-Library")]
    public string Get() => "library";
}
