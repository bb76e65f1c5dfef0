using RateGuard.Operations;

namespace RateGuard.Http.Admin;

/// <summary>
/// Everything the page and <c>GET buckets</c> show, read once per request so that both render the same moment:
/// the store's circuits, how many instances share the limits, and every bucket with its most rejected clients.
/// </summary>
internal sealed record AdminSnapshot(IReadOnlyList<StoreServerState> Servers, int Instances, IReadOnlyList<AdminBucket> Buckets)
{
    /// <summary>How many rejected clients are listed per bucket.</summary>
    public const int TopRejectedCount = 10;

    /// <summary>Reads the servers, the instance count, the buckets and each bucket's most rejected clients.</summary>
    public static AdminSnapshot Take(ITokenBucketOperations operations)
    {
        var servers = operations.GetServers();
        var summaries = operations.GetBuckets();
        var buckets = new AdminBucket[summaries.Count];
        for (var i = 0; i < summaries.Count; i++)
        {
            IReadOnlyList<RejectedClient> top;
            try
            {
                top = operations.GetTopRejected(summaries[i].Name, TopRejectedCount);
            }
            catch (UnknownTokenBucketException)
            {
                // Listed a moment ago and gone now (a configuration reload): shown without clients rather than failing
                // the whole page.
                top = [];
            }
            buckets[i] = new AdminBucket(summaries[i], top);
        }
        return new AdminSnapshot(servers, operations.GetInstanceCount(), buckets);
    }
}
