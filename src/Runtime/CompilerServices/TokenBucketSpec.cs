using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace RateGuard.CompilerServices;

/// <summary>
/// What makes two <c>[TokenBucket]</c> limits the same gate: everything but the bucket name. Generated gates are
/// registered under their spec, and each endpoint's attributes find their gate by it at startup.
/// </summary>
/// <param name="Capacity">The attribute's capacity.</param>
/// <param name="Rate">The attribute's rate.</param>
/// <param name="Key">The attribute's key source; <see langword="null"/> when a resolver type computes the key.</param>
/// <param name="Cost">The attribute's cost.</param>
/// <param name="KeyResolver">The attribute's resolver type, if any.</param>
/// <remarks>
/// Part of the contract that generated code calls (see <see cref="TokenBucketGateRegistry"/>): not for application
/// code, and kept compatible from one version to the next.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct TokenBucketSpec(
    int Capacity,
    double Rate,
    string? Key,
    int Cost,
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.NonPublicConstructors)]
    [property: DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.NonPublicConstructors)]
    Type? KeyResolver)
{
    /// <summary>The spec of <paramref name="attribute"/>.</summary>
    public static TokenBucketSpec From(TokenBucketAttribute attribute)
    {
        ArgumentNullException.ThrowIfNull(attribute);
        return new(attribute.Capacity, attribute.Rate, attribute.KeyResolver is null ? attribute.Key : null, attribute.Cost, attribute.KeyResolver);
    }
}
