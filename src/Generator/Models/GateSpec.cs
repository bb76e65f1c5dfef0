namespace RateGuard.Generator.Models;

/// <summary>
/// One distinct limit, as the generator emits a gate for it: the constants of a <c>[TokenBucket]</c> less the bucket
/// name, which is chosen per endpoint at startup. Holds no symbols and no syntax.
/// </summary>
/// <param name="Capacity">The capacity.</param>
/// <param name="Rate">The rate, tokens per second.</param>
/// <param name="Key">The key source; <see langword="null"/> when <paramref name="Resolver"/> computes the key.</param>
/// <param name="Cost">The cost.</param>
/// <param name="Resolver">The resolver type, when there is one.</param>
internal sealed record GateSpec(int Capacity, double Rate, string? Key, int Cost, ResolverSpec? Resolver) : IComparable<GateSpec>
{
    public int CompareTo(GateSpec? other)
    {
        if (other is null)
        {
            return 1;
        }
        var c = string.CompareOrdinal(Key ?? "", other.Key ?? "");
        if (c == 0) c = string.CompareOrdinal(Resolver?.FullyQualifiedName ?? "", other.Resolver?.FullyQualifiedName ?? "");
        if (c == 0) c = Capacity.CompareTo(other.Capacity);
        if (c == 0) c = Rate.CompareTo(other.Rate);
        if (c == 0) c = Cost.CompareTo(other.Cost);
        return c;
    }
}

/// <summary>A custom key-resolver type, described by its name.</summary>
/// <param name="FullyQualifiedName">The <c>global::</c>-qualified name, for generated code.</param>
/// <param name="DisplayName">The plain name, for messages.</param>
/// <param name="HasParameterlessConstructor">Whether generated code can create it when DI has none.</param>
internal sealed record ResolverSpec(string FullyQualifiedName, string DisplayName, bool HasParameterlessConstructor);
