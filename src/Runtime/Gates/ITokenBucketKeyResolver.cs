using Microsoft.AspNetCore.Http;

namespace RateGuard;

/// <summary>
/// Computes the key that selects a client's bucket, for limits that none of the built-in key kinds describe.
/// Name the implementing type in <see cref="TokenBucketAttribute.KeyResolver"/>.
/// </summary>
/// <remarks>
/// It is called on every limited request, directly (never through reflection), so keep it cheap and synchronous.
/// Register it in DI to give it dependencies; otherwise it is created once with its parameterless constructor.
/// </remarks>
public interface ITokenBucketKeyResolver
{
    /// <summary>Returns the key for this request, or <see langword="null"/> or empty when it has none.</summary>
    string? ResolveKey(HttpContext context);
}
