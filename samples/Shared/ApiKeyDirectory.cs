using Microsoft.AspNetCore.Http;

namespace RateGuard.Samples;

/// <summary>
/// A small API-key directory: the plan each key is on. A real one would look keys up in a database and keep the
/// answers in memory; here the plan is in the key's prefix. Keys on no plan get the limit's own capacity and rate.
/// </summary>
public sealed class ApiKeyDirectory : ITokenBucketPlanResolver
{
    public string? ResolvePlan(HttpContext context, string key) =>
        key.StartsWith("free-", StringComparison.Ordinal) ? "free"
        : key.StartsWith("pro-", StringComparison.Ordinal) ? "pro"
        : key.StartsWith("internal-", StringComparison.Ordinal) ? "internal"
        : null;
}
