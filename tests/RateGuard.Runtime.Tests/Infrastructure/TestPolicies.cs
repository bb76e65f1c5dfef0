namespace RateGuard.Runtime.Tests.Infrastructure;

/// <summary>Policies with unique names, so tests sharing a Redis never share a bucket.</summary>
public static class TestPolicies
{
    private static int s_next;

    public static TokenBucketPolicy Create(int capacity, double rate, int cost = 1) =>
        new($"t{Interlocked.Increment(ref s_next)}", capacity, rate, cost);

    public static TokenBucketPolicy WithCost(this TokenBucketPolicy policy, int cost) =>
        new(policy.Name, policy.Capacity, policy.Rate, cost);
}
