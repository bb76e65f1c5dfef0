namespace RateGuard.Clients;

/// <summary>One client's limits on one bucket, set by an operator, until <see cref="ExpiresAt"/>.</summary>
internal sealed class ClientOverride(string bucket, string key, int capacity, double rate, DateTimeOffset expiresAt)
{
    // The policy built for the cost of the last request that used the override: one allocation per override and cost.
    private TokenBucketPolicy? _policy;

    public string Bucket { get; } = bucket;

    public string Key { get; } = key;

    public int Capacity { get; } = capacity;

    public double Rate { get; } = rate;

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    /// <summary>The bucket of <paramref name="declared"/> at this override's capacity and rate, at the declared cost.</summary>
    public TokenBucketPolicy PolicyFor(TokenBucketPolicy declared)
    {
        var policy = Volatile.Read(ref _policy);
        if (policy is null || policy.Cost != declared.Cost)
        {
            policy = new TokenBucketPolicy(declared.Name, Math.Max(Capacity, declared.Cost), Rate, declared.Cost);
            Volatile.Write(ref _policy, policy);
        }
        return policy;
    }
}
