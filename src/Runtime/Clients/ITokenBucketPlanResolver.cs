using Microsoft.AspNetCore.Http;

namespace RateGuard;

/// <summary>
/// Names the caller's plan for limits whose capacity and rate depend on who is calling, from the request and the key
/// the limit already read: an API-key directory, a tenant table, a subscription service's answer kept in memory.
/// Name the implementing type in <see cref="TokenBucketAttribute.PlanResolver"/>.
/// </summary>
/// <remarks>
/// It is called on every limited request, directly (never through reflection), before the bucket is decided, so keep
/// it synchronous and cheap: one instance serves the whole app, so it may hold a cache of its own. Register it in DI to
/// give it dependencies; otherwise it is created once with its parameterless constructor.
/// </remarks>
public interface ITokenBucketPlanResolver
{
    /// <summary>
    /// The plan of the caller whose key is <paramref name="key"/>, or <see langword="null"/> when the caller has none:
    /// a caller with no plan, or one the bucket does not declare, gets the limit's own capacity and rate.
    /// </summary>
    string? ResolvePlan(HttpContext context, string key);
}
