using Microsoft.AspNetCore.Http;

namespace RateGuard.Benchmarks;

/// <summary>A directory as small as one can be: every "client-…" key is on plan pro, so what is measured is the path to the resolver, not its lookup.</summary>
public sealed class PlanDirectory : ITokenBucketPlanResolver
{
    public string? ResolvePlan(HttpContext context, string key) => key.StartsWith("client-", StringComparison.Ordinal) ? "pro" : null;
}
