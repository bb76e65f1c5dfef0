using Microsoft.CodeAnalysis;

namespace RateGuard.Generator.Diagnostics;

/// <summary>Every diagnostic RateGuard reports. IDs are stable; each has a section in docs/diagnostics.md.</summary>
internal static class DiagnosticDescriptors
{
    public const string Category = "RateGuard";
    private const string HelpBase = "https://github.com/rateguard/rateguard/blob/main/docs/diagnostics.md#";

    public static readonly DiagnosticDescriptor InvalidCapacity = Error(
        "RG0001", "Token bucket capacity must be at least 1",
        "Token bucket capacity must be at least 1, but is {0}: set it to the largest burst to allow");

    public static readonly DiagnosticDescriptor InvalidRate = Error(
        "RG0002", "Token bucket rate must be positive and finite",
        "Token bucket rate must be a finite number of tokens per second above 0 and at most 1,000,000, and an empty bucket must fill within 100 years, but the rate is {0}: {1}");

    public static readonly DiagnosticDescriptor InvalidKey = Error(
        "RG0003", "Token bucket key is not valid",
        "Key \"{0}\" is not a valid token-bucket key: use {1}");

    public static readonly DiagnosticDescriptor UnknownRouteParameter = Error(
        "RG0004", "Route key names a parameter the route does not have",
        "Key \"route:{0}\" names a route value that the route template \"{1}\" does not have: use {2}, or add {{{0}}} to the template");

    public static readonly DiagnosticDescriptor InvalidCost = Error(
        "RG0005", "Token bucket cost must be at least 1",
        "Cost must be at least 1 token, but is {0}");

    public static readonly DiagnosticDescriptor CostAboveCapacity = Error(
        "RG0006", "Token bucket cost exceeds its capacity",
        "Cost {0} exceeds capacity {1}: the bucket can never hold enough tokens, so every request would be rejected; lower Cost or raise capacity");

    public static readonly DiagnosticDescriptor UserKeyOnAnonymousEndpoint = Warning(
        "RG0007", "User or claim key on an endpoint that allows anonymous callers",
        "Key \"{0}\" reads the signed-in user, but this endpoint allows anonymous callers, who have no value and are rejected with 403: require authorization on the endpoint, or use another key");

    public static readonly DiagnosticDescriptor ConflictingBucket = Error(
        "RG0008", "A shared bucket is declared with different settings",
        "Bucket \"{0}\" is already declared with {1}; this declaration has {2}: every declaration of a shared bucket must agree on capacity, rate and key");

    public static readonly DiagnosticDescriptor NotAnEndpoint = Warning(
        "RG0009", "[TokenBucket] on something that never becomes an endpoint",
        "[TokenBucket] on '{0}' has no effect: it is not a controller or action and is never passed to a Map* call; put it on an endpoint's handler");

    public static readonly DiagnosticDescriptor RuntimeNotWired = Warning(
        "RG0010", "[TokenBucket] is used but the runtime is never wired",
        "Token-bucket limits are never enforced because this app never calls {0}: add {1}");

    public static readonly DiagnosticDescriptor InvalidResolver = Error(
        "RG0011", "Key resolver is not a concrete ITokenBucketKeyResolver",
        "Key resolver {0} is not a concrete, closed type implementing RateGuard.ITokenBucketKeyResolver: implement the interface on a non-abstract, non-generic class, or use a built-in Key");

    public static readonly DiagnosticDescriptor InvalidBucketName = Error(
        "RG0012", "Bucket name is not valid",
        "Bucket name \"{0}\" is not valid: use 1 to 100 letters, digits or '.', '_', '-', '/'");

    public static readonly DiagnosticDescriptor MiddlewareOutOfOrder = Warning(
        "RG0013", "UseTokenBuckets() is called before the middleware it depends on",
        "UseTokenBuckets() is called before {0}, so {1}: call it after {0}");

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());
}
