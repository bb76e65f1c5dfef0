using System;
using System.Diagnostics.CodeAnalysis;

namespace RateGuard;

/// <summary>
/// Declares a named token-bucket limit once for the whole assembly, so that endpoints, route groups, controllers and
/// gateway routes use it by name: <c>[TokenBucket("writes")]</c>, <c>RequireTokenBucket("writes")</c>, or the route
/// metadata <c>TokenBucket.Limit: writes</c>.
/// </summary>
/// <remarks>
/// <para>
/// A named limit is one bucket, named after the limit, that every place using it draws from, as an ASP.NET Core
/// rate-limiting policy is one partition for every endpoint that enables it. Configuration overrides it under
/// <c>TokenBuckets:Buckets:&lt;name&gt;</c>, and headers, metrics and the operations API name it by its name.
/// </para>
/// <para>
/// <code>[assembly: TokenBucketLimit("writes", capacity: 10, rate: 1, Key = "user")]</code>
/// </para>
/// </remarks>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true, Inherited = false)]
public sealed class TokenBucketLimitAttribute : Attribute
{
    /// <summary>Declares the limit <paramref name="name"/>.</summary>
    /// <param name="name">The limit's name, which is also its bucket's name: letters, digits and <c>. _ - /</c>.</param>
    /// <param name="capacity">The most tokens the bucket holds: the largest burst. At least 1.</param>
    /// <param name="rate">Tokens added per second; fractions such as <c>0.5</c> or <c>1.0 / 60</c> are allowed. Above 0.</param>
    public TokenBucketLimitAttribute(string name, int capacity, double rate)
    {
        Name = name;
        Capacity = capacity;
        Rate = rate;
    }

    /// <summary>The limit's name, by which it is used, and the name of its one bucket.</summary>
    public string Name { get; }

    /// <summary>The most tokens the bucket holds: the largest burst.</summary>
    public int Capacity { get; }

    /// <summary>Tokens added per second.</summary>
    public double Rate { get; }

    /// <summary>What separates one client's bucket from another's, as <see cref="TokenBucketAttribute.Key"/>. Defaults to <c>"ip"</c>.</summary>
    public string Key { get; set; } = TokenBucketKey.Ip;

    /// <summary>Tokens one request takes. Defaults to 1.</summary>
    public int Cost { get; set; } = 1;

    /// <summary>A type implementing <c>RateGuard.ITokenBucketKeyResolver</c> that computes the key, as <see cref="TokenBucketAttribute.KeyResolver"/>.</summary>
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.NonPublicConstructors)]
    public Type? KeyResolver { get; set; }

    /// <summary>Where the caller's plan is read from, as <see cref="TokenBucketAttribute.Plan"/>.</summary>
    public string? Plan { get; set; }

    /// <summary>A type implementing <c>RateGuard.ITokenBucketPlanResolver</c> that names the caller's plan, as <see cref="TokenBucketAttribute.PlanResolver"/>.</summary>
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.NonPublicConstructors)]
    public Type? PlanResolver { get; set; }

    /// <summary>Which responses the bucket counts, as <see cref="TokenBucketAttribute.Count"/>.</summary>
    public string? Count { get; set; }

    /// <summary>A type implementing <c>RateGuard.ITokenBucketCountRule</c> that decides which responses count, as <see cref="TokenBucketAttribute.CountRule"/>.</summary>
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.NonPublicConstructors)]
    public Type? CountRule { get; set; }

    /// <summary>The most one request may be charged once the handler reports its actual cost, as <see cref="TokenBucketAttribute.MaxCost"/>.</summary>
    public int MaxCost { get; set; }
}
