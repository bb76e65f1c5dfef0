using Microsoft.AspNetCore.Mvc;

namespace RateGuard.Integration.Tests.Sharing;

/// <summary>A controller-level limit: one bucket, "OrdersController", for every action; one action adds its own.</summary>
[ApiController]
[Route("sharing/orders")]
[TokenBucket(capacity: 3, rate: 0.001, Key = "header:X-User")]
public sealed class OrdersController : ControllerBase
{
    [HttpGet]
    public string List() => "list";

    [HttpGet("{id}")]
    public string Get(string id) => id;

    [HttpPost]
    public string Create() => "created";

    // The controller's bucket and this one of its own.
    [HttpPost("import")]
    [TokenBucket(capacity: 1, rate: 0.001, Key = "header:X-User")]
    public string Import() => "imported";

    // Out of the controller's bucket altogether.
    [HttpGet("health")]
    [DisableTokenBucket]
    public string Health() => "healthy";
}

/// <summary>The per-endpoint option: each action has a bucket of its own, named after its route.</summary>
[ApiController]
[Route("sharing/invoices")]
[TokenBucket(capacity: 2, rate: 0.001, Key = "header:X-User", PerEndpoint = true)]
public sealed class InvoicesController : ControllerBase
{
    [HttpGet]
    public string List() => "list";

    [HttpGet("{id}")]
    public string Get(string id) => id;
}

/// <summary>A limit inherited from a base: each controller that inherits it has a bucket of its own.</summary>
[ApiController]
[TokenBucket(capacity: 2, rate: 0.001, Key = "header:X-User")]
public abstract class CatalogueControllerBase : ControllerBase
{
    [HttpGet("first")]
    public string First() => "first";

    [HttpGet("second")]
    public string Second() => "second";
}

[Route("sharing/books")]
public sealed class BooksController : CatalogueControllerBase;

[Route("sharing/films")]
public sealed class FilmsController : CatalogueControllerBase;
