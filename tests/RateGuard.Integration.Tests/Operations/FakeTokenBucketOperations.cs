using RateGuard.Limiting;
using RateGuard.Operations;

namespace RateGuard.Integration.Tests.Operations;

/// <summary>
/// Operations that answer what a test set, or throw what it chose: for the failures a real in-memory store cannot
/// produce on demand (a store that is unavailable, or cannot do an operation at all).
/// </summary>
public sealed class FakeTokenBucketOperations : ITokenBucketOperations
{
    public IReadOnlyList<TokenBucketSummary> Buckets { get; set; } =
        [new("GET /items/{id}", 5, 1, 1, FailureMode.Open, new TokenBucketActivity(12, 3))];

    public IReadOnlyList<StoreServerState> Servers { get; set; } = [new("memory", CircuitState.Closed)];

    /// <summary>The one client every bucket lists as rejected.</summary>
    public string RejectedKey { get; set; } = "203.0.113.7";

    /// <summary>How many more rejections than the 3 counted <see cref="RejectedKey"/> may have had.</summary>
    public long RejectedUncertain { get; set; }

    /// <summary>Thrown by <see cref="InspectAsync"/> and <see cref="ResetAsync"/> when set.</summary>
    public Exception? Failure { get; set; }

    /// <summary>Every reset asked for, in order.</summary>
    public List<(string Bucket, string Key)> Resets { get; } = [];

    public IReadOnlyList<TokenBucketSummary> GetBuckets() => Buckets;

    public IReadOnlyList<StoreServerState> GetServers() => Servers;

    public int GetInstanceCount() => 1;

    public IReadOnlyList<RejectedClient> GetTopRejected(string bucket, int count = 10) =>
        Known(bucket) ? [new RejectedClient(RejectedKey, 3, RejectedUncertain, DateTimeOffset.UtcNow)] : throw Unknown(bucket);

    public ValueTask<TokenBucketState> InspectAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        ThrowIfFailing(bucket);
        var summary = Buckets.Single(b => b.Name == bucket);
        return ValueTask.FromResult(new TokenBucketState(bucket, key, summary.Capacity, summary.Capacity, summary.Rate, TimeSpan.Zero));
    }

    public ValueTask ResetAsync(string bucket, string key, CancellationToken cancellationToken = default)
    {
        ThrowIfFailing(bucket);
        Resets.Add((bucket, key));
        return ValueTask.CompletedTask;
    }

    private void ThrowIfFailing(string bucket)
    {
        if (Failure is not null)
        {
            throw Failure;
        }
        if (!Known(bucket))
        {
            throw Unknown(bucket);
        }
    }

    private bool Known(string bucket) => Buckets.Any(b => b.Name == bucket);

    private static UnknownTokenBucketException Unknown(string bucket) => new(bucket, $"No bucket is named '{bucket}'.");
}
