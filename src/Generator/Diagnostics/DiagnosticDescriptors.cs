using Microsoft.CodeAnalysis;
using RateGuard.Generator.Parsing;

namespace RateGuard.Generator.Diagnostics;

/// <summary>Every diagnostic RateGuard reports. IDs are stable; each has a section in docs/diagnostics.md.</summary>
/// <remarks>
/// Each descriptor calls the constructor itself rather than a shared helper, so that the analyzer rules of
/// Microsoft.CodeAnalysis.Analyzers can read its arguments: RS1037 only sees a missing
/// <see cref="WellKnownDiagnosticTags.CompilationEnd"/> tag on a descriptor it can trace to its constructor.
/// Descriptors reported once the whole compilation has been analysed carry that tag, which tells the IDE not to look
/// for them while one document is analysed as it is typed.
/// </remarks>
internal static class DiagnosticDescriptors
{
    public const string Category = "RateGuard";
    private const string HelpBase = "https://github.com/rateguard/rateguard/blob/main/docs/diagnostics.md#";

    public static readonly DiagnosticDescriptor InvalidCapacity = new(
        "RG0001", "Token bucket capacity must be at least 1",
        "Capacity {0} is invalid: " + LimitRules.Capacity,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0001");

    public static readonly DiagnosticDescriptor InvalidRate = new(
        "RG0002", "Token bucket rate must be positive and finite",
        "Rate {0} is invalid: {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0002");

    public static readonly DiagnosticDescriptor InvalidKey = new(
        "RG0003", "Token bucket key is not valid",
        "Key \"{0}\" is not a valid token-bucket key: use {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0003");

    // RG0004 has two descriptors with one ID and title, for a key and for a plan: one mistake (a route value the route
    // lacks) with one fix, which the code fix writes for both, and one suppression covers both.
    public static readonly DiagnosticDescriptor UnknownRouteParameter = new(
        "RG0004", "Route key or plan names a parameter the route does not have",
        "Key \"route:{0}\" names a route value that {1} does not have: use {2}, or add {{{0}}} to the template",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0004");

    public static readonly DiagnosticDescriptor UnknownRoutePlanParameter = new(
        "RG0004", "Route key or plan names a parameter the route does not have",
        "Plan \"route:{0}\" names a route value that {1} does not have: use {2}, or add {{{0}}} to the template",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0004");

    public static readonly DiagnosticDescriptor InvalidCost = new(
        "RG0005", "Token bucket cost must be at least 1",
        "Cost {0} is invalid: " + LimitRules.Cost,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0005");

    public static readonly DiagnosticDescriptor CostAboveCapacity = new(
        "RG0006", "Token bucket cost exceeds its capacity",
        "Cost {0} is invalid with capacity {1}: " + LimitRules.CostWithinCapacity,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0006");

    public static readonly DiagnosticDescriptor UserKeyOnAnonymousEndpoint = new(
        "RG0007", "User or claim key on an endpoint that allows anonymous callers",
        "Key \"{0}\" reads the signed-in user, but {1} allows anonymous callers, who have no value and are rejected with 403: require authorization on {2}, or use another key",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0007");

    // Compilation end: the first declaration of a bucket, in file order, may be in any file.
    public static readonly DiagnosticDescriptor ConflictingBucket = new(
        "RG0008", "A shared bucket is declared with different settings",
        "Bucket \"{0}\" is already declared with {1}; this declaration has {2}: every declaration of a shared bucket must agree on capacity, rate and key",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0008",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    // RG0009 has two descriptors with one ID, title and message, so that one suppression covers both: a class is
    // judged by its own declaration, as it is typed; a method only once every Map* call in the compilation is known.
    public static readonly DiagnosticDescriptor NotAnEndpointClass = new(
        "RG0009", "[TokenBucket] on something that never becomes an endpoint",
        "[TokenBucket] on '{0}' has no effect: it is not a controller or action and is never passed to a Map* call; put it on an endpoint's handler",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0009");

    public static readonly DiagnosticDescriptor NotAnEndpointMethod = new(
        "RG0009", "[TokenBucket] on something that never becomes an endpoint",
        "[TokenBucket] on '{0}' has no effect: it is not a controller or action and is never passed to a Map* call; put it on an endpoint's handler",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0009",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    // Compilation end: the wiring calls may be anywhere in the app.
    public static readonly DiagnosticDescriptor RuntimeNotWired = new(
        "RG0010", "[TokenBucket] is used but the runtime is never wired",
        "Token-bucket limits are never enforced because this app never calls {0}: add {1}",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0010",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor InvalidResolver = new(
        "RG0011", "Key resolver is not a concrete ITokenBucketKeyResolver",
        "Key resolver {0} is not a concrete, closed type implementing RateGuard.ITokenBucketKeyResolver: implement the interface on a non-abstract, non-generic class, or use a built-in Key",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0011");

    public static readonly DiagnosticDescriptor InvalidBucketName = new(
        "RG0012", "Bucket name is not valid",
        "Bucket name \"{0}\" is invalid: " + LimitRules.DeclaredBucketName,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0012");

    public static readonly DiagnosticDescriptor PerEndpointWithBucket = new(
        "RG0014", "PerEndpoint and Bucket on one limit",
        "PerEndpoint is set with Bucket \"{0}\": " + LimitRules.PerEndpointOrBucket,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0014");

    // Compilation end: legacy routing matters only in an app whose controllers carry limits.
    public static readonly DiagnosticDescriptor LegacyMvcRouting = new(
        "RG0015", "MVC runs with legacy routing, where controllers' limits never apply",
        "{0} makes MVC route controllers without endpoint routing, where their token-bucket limits are never applied: " + LimitRules.EndpointRouting,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0015",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor UnknownLimit = new(
        "RG0016", "Token bucket limit is not declared",
        "Limit \"{0}\" is not declared: {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0016");

    public static readonly DiagnosticDescriptor DuplicateLimit = new(
        "RG0017", "Token bucket limit is declared twice",
        "Limit \"{0}\" is already declared with {1}: " + LimitRules.LimitDeclaredOnce,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0017");

    public static readonly DiagnosticDescriptor NamedLimitWithSettings = new(
        "RG0018", "A limit used by name sets its own settings",
        "Limit \"{0}\" is used by name, so {1} cannot be set here: " + LimitRules.NamedLimitAlone,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0018");

    public static readonly DiagnosticDescriptor InvalidPlan = new(
        "RG0019", "Plan source is not valid",
        "Plan \"{0}\" is not a valid plan source: {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0019");

    public static readonly DiagnosticDescriptor InvalidPlanResolver = new(
        "RG0020", "Plan resolver is not a concrete ITokenBucketPlanResolver",
        "Plan resolver {0} is not a concrete, closed type implementing RateGuard.ITokenBucketPlanResolver: implement the interface on a non-abstract, non-generic class, or read the plan with Plan",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0020");

    public static readonly DiagnosticDescriptor InvalidExemptNetwork = new(
        "RG0021", "Exempt network is not a valid CIDR range",
        "Exempt network \"{0}\" is invalid ({1}): write it as " + NetworkRange.Form,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0021");

    // Apart from RG0007: an anonymous caller is not refused here but gets the limit's own capacity and rate, which an
    // app may intend (a free tier for anonymous callers), so it must be possible to turn this off alone.
    public static readonly DiagnosticDescriptor ClaimPlanOnAnonymousEndpoint = new(
        "RG0022", "Claim plan on an endpoint that allows anonymous callers",
        "Plan \"{0}\" reads a claim of the signed-in user, but {1} allows anonymous callers, who have no claims and always get this limit's own capacity and rate: require authorization on {2}, or read the plan from another source",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0022");

    public static readonly DiagnosticDescriptor InvalidCount = new(
        "RG0023", "Token bucket count is not valid",
        "Count \"{0}\" is invalid: " + LimitRules.Count,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0023");

    public static readonly DiagnosticDescriptor InvalidCountRule = new(
        "RG0024", "Count rule is not a concrete ITokenBucketCountRule",
        "Count rule {0} is not a concrete, closed type implementing RateGuard.ITokenBucketCountRule: implement the interface on a non-abstract, non-generic class, or list the responses that count with Count",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0024");

    public static readonly DiagnosticDescriptor InvalidMaxCost = new(
        "RG0025", "Token bucket maximum cost is not valid",
        "MaxCost {0} is invalid{1}: " + LimitRules.MaxCost,
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0025");

    // Compilation end: whether authentication must come first depends on whether any limit in the compilation keys on
    // the user.
    public static readonly DiagnosticDescriptor MiddlewareOutOfOrder = new(
        "RG0013", "UseTokenBuckets() is called before the middleware it depends on",
        "UseTokenBuckets() is called before {0}, so {1}: call it after {0}",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + "rg0013",
        customTags: WellKnownDiagnosticTags.CompilationEnd);
}
