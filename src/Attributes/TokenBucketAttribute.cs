using System;
using System.Diagnostics.CodeAnalysis;

namespace RateGuard;

/// <summary>
/// Limits an endpoint with a token bucket: up to <see cref="Capacity"/> requests at once, refilled at
/// <see cref="Rate"/> tokens per second, one bucket per value of <see cref="Key"/>.
/// </summary>
/// <remarks>
/// <para>
/// Put it on a minimal-API handler (lambda, method group, local function or static method), on an MVC controller or on
/// an action, or attach it as endpoint metadata. Several attributes on one endpoint, or on a controller and its action,
/// all apply: a request is admitted only when every bucket admits it.
/// </para>
/// <para>
/// A limit on a controller is one bucket per key that all of the controller's actions draw from, named after the
/// controller (<c>OrdersController</c>), as a limit on a route group (<c>RequireTokenBucket</c>) is one bucket named
/// after the group's prefix. Set <see cref="PerEndpoint"/> to give each action a bucket of its own instead.
/// </para>
/// <para>
/// A source generator turns each attribute into straight-line gate code at compile time, and an analyzer reports a
/// misconfigured attribute as a build error. Wire the runtime with <c>services.AddTokenBuckets(...)</c> and
/// <c>app.UseTokenBuckets()</c>.
/// </para>
/// <para>
/// A limit declared once for the assembly with <see cref="TokenBucketLimitAttribute"/> is used by its name:
/// <c>[TokenBucket("writes")]</c>.
/// </para>
/// </remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = true, Inherited = true)]
public sealed class TokenBucketAttribute : Attribute
{
    /// <summary>Creates a token-bucket limit.</summary>
    /// <param name="capacity">The most tokens the bucket holds: the largest burst. At least 1.</param>
    /// <param name="rate">Tokens added per second; fractions such as <c>0.5</c> or <c>1.0 / 60</c> are allowed. Above 0.</param>
    public TokenBucketAttribute(int capacity, double rate)
    {
        Capacity = capacity;
        Rate = rate;
    }

    /// <summary>
    /// Uses the limit declared as <c>[assembly: TokenBucketLimit(limit, ...)]</c>: its capacity, rate, key and cost,
    /// and its one bucket, named <paramref name="limit"/>, which every place using the limit shares. Set no other
    /// property with it; the declaration says them all.
    /// </summary>
    /// <param name="limit">The name of a limit declared with <see cref="TokenBucketLimitAttribute"/>.</param>
    public TokenBucketAttribute(string limit)
    {
        Limit = limit;
    }

    /// <summary>
    /// The name of the declared limit this attribute uses, or <see langword="null"/> when it states its own capacity
    /// and rate. When set, <see cref="Capacity"/> and <see cref="Rate"/> are 0: the declaration holds them.
    /// </summary>
    public string? Limit { get; }

    /// <summary>The most tokens the bucket holds: the largest burst.</summary>
    public int Capacity { get; }

    /// <summary>Tokens added per second.</summary>
    public double Rate { get; }

    /// <summary>
    /// What separates one client's bucket from another's. One of <c>"ip"</c> (the default: the remote address),
    /// <c>"user"</c> (the authenticated user's id), <c>"global"</c> (one bucket for everyone),
    /// <c>"header:&lt;Name&gt;"</c>, <c>"query:&lt;name&gt;"</c>, <c>"route:&lt;name&gt;"</c> or <c>"claim:&lt;type&gt;"</c>.
    /// Ignored when <see cref="KeyResolver"/> is set.
    /// </summary>
    public string Key { get; set; } = TokenBucketKey.Ip;

    /// <summary>Tokens one request takes. Defaults to 1.</summary>
    public int Cost { get; set; } = 1;

    /// <summary>
    /// A bucket name shared by every endpoint that uses it, so they draw from one bucket. When unset, a limit on one
    /// endpoint has a bucket of its own, and a limit on a controller one that its actions share (see
    /// <see cref="PerEndpoint"/>). Letters, digits and <c>. _ - /</c>.
    /// </summary>
    public string? Bucket { get; set; }

    /// <summary>
    /// On a controller: gives each action a bucket of its own, named after the action's route, rather than one bucket
    /// the controller's actions share (on a route group, <c>RequireTokenBucket</c>'s <c>perEndpoint</c> does the same). A limit on a single endpoint has a bucket of its own either way. Cannot be
    /// combined with <see cref="Bucket"/>, which names one bucket for every endpoint that uses it.
    /// </summary>
    public bool PerEndpoint { get; set; }

    /// <summary>
    /// A type implementing <c>RateGuard.ITokenBucketKeyResolver</c> that computes the key. It is taken from dependency
    /// injection when registered there, and otherwise created once with its parameterless constructor (public or
    /// internal, and neither obsolete nor experimental).
    /// </summary>
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.NonPublicConstructors)]
    public Type? KeyResolver { get; set; }

    /// <summary>
    /// Where the caller's plan is read from, so that the bucket takes its capacity and rate from the plan: one of
    /// <c>"header:&lt;Name&gt;"</c> (set by a trusted upstream), <c>"claim:&lt;type&gt;"</c>, <c>"route:&lt;name&gt;"</c> or
    /// <c>"query:&lt;name&gt;"</c>. Plans are declared with <c>AddTokenBucketPlans</c> and under
    /// <c>TokenBuckets:Buckets:&lt;bucket&gt;:Plans</c>; a caller with no plan, or one not declared, gets this
    /// attribute's own capacity and rate. Ignored when <see cref="PlanResolver"/> is set.
    /// </summary>
    public string? Plan { get; set; }

    /// <summary>
    /// A type implementing <c>RateGuard.ITokenBucketPlanResolver</c> that names the caller's plan from the request and
    /// its key (an API-key directory, say). It is taken from dependency injection when registered there, and otherwise
    /// created once with its parameterless constructor.
    /// </summary>
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.NonPublicConstructors)]
    public Type? PlanResolver { get; set; }

    /// <summary>
    /// Which responses the bucket counts: <c>"all"</c> (the default), <c>"failures"</c> (a status code of 400 or above,
    /// or an exception) or status codes and ranges such as <c>"401,403,500-599"</c> (see <see cref="TokenBucketCount"/>).
    /// A request is admitted only if the bucket holds its cost, and is charged it up front; once its response does not
    /// count, the cost is given back, never above a full bucket. <c>TokenBuckets:Buckets:&lt;bucket&gt;:Count</c> replaces
    /// it. Ignored when <see cref="CountRule"/> is set.
    /// </summary>
    public string? Count { get; set; }

    /// <summary>
    /// A type implementing <c>RateGuard.ITokenBucketCountRule</c> that decides from the response's status code whether
    /// it counts, as <see cref="Count"/> does from a list. It is taken from dependency injection when registered there,
    /// and otherwise created once with its parameterless constructor.
    /// </summary>
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.NonPublicConstructors)]
    public Type? CountRule { get; set; }

    /// <summary>
    /// Lets the handler charge the request's actual cost once it knows it (<c>HttpContext.ChargeTokens</c>), up to this
    /// many tokens per request; 0, the default, when it cannot. <see cref="Cost"/> is still what the request must find
    /// in the bucket, and is taken up front; the actual cost replaces it, and may leave the bucket in debt, which later
    /// requests wait to pay back. At least <see cref="Cost"/>.
    /// </summary>
    public int MaxCost { get; set; }
}
