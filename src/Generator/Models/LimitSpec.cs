namespace RateGuard.Generator.Models;

/// <summary>
/// A limit declared with <c>[assembly: TokenBucketLimit(...)]</c>, as the generator registers it with the runtime: its
/// name and the values of its spec as written, valid or not (the runtime reports an invalid one at startup, as the
/// analyzer does at build). Holds no symbols and no syntax.
/// </summary>
/// <param name="Name">The limit's name, which is its bucket's.</param>
/// <param name="Capacity">The capacity.</param>
/// <param name="Rate">The rate, tokens per second.</param>
/// <param name="Key">The key source; <see langword="null"/> when a resolver computes the key.</param>
/// <param name="Cost">The cost.</param>
/// <param name="ResolverType">The <c>global::</c>-qualified resolver type, when there is one.</param>
/// <param name="Gate">The gate the limit is enforced by, when it is valid.</param>
internal sealed record LimitSpec(string Name, int Capacity, double Rate, string? Key, int Cost, string? ResolverType, GateSpec? Gate) : IComparable<LimitSpec>
{
    // By name, then by value, so that two declarations of one name (an error the analyzer reports) still come out in
    // one order on every build.
    public int CompareTo(LimitSpec? other)
    {
        if (other is null)
        {
            return 1;
        }
        var c = string.CompareOrdinal(Name, other.Name);
        if (c == 0) c = Capacity.CompareTo(other.Capacity);
        if (c == 0) c = Rate.CompareTo(other.Rate);
        if (c == 0) c = string.CompareOrdinal(Key ?? "", other.Key ?? "");
        if (c == 0) c = Cost.CompareTo(other.Cost);
        if (c == 0) c = string.CompareOrdinal(ResolverType ?? "", other.ResolverType ?? "");
        return c;
    }
}
