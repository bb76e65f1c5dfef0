using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

namespace RateGuard.Http;

/// <summary>
/// Hands every reader of an endpoint data source the same endpoint instances, until the source says they changed.
/// </summary>
/// <remarks>
/// A minimal-API data source builds its endpoints (request delegates, filters, metadata) anew each time they are read,
/// and routing reads them through a composite of its own. Reading them a second time for the gate table would build
/// every endpoint twice, and the endpoints routing selects would not be the ones the table knows. Routing's composite
/// reads the route builder's data sources when the pipeline is built, after <c>UseTokenBuckets</c> has put this
/// wrapper in their place, so both read one build.
/// </remarks>
internal sealed class SharedEndpointDataSource(EndpointDataSource inner) : EndpointDataSource
{
    private readonly object _gate = new();
    private Snapshot? _snapshot;

    public EndpointDataSource Inner { get; } = inner;

    public override IReadOnlyList<Endpoint> Endpoints
    {
        get
        {
            var snapshot = Volatile.Read(ref _snapshot);
            if (snapshot is not null && !snapshot.Token.HasChanged)
            {
                return snapshot.Endpoints;
            }
            lock (_gate)
            {
                snapshot = _snapshot;
                if (snapshot is null || snapshot.Token.HasChanged)
                {
                    // The token first: a change while the endpoints are read then shows on the next read.
                    var token = Inner.GetChangeToken();
                    snapshot = new Snapshot(token, Inner.Endpoints);
                    Volatile.Write(ref _snapshot, snapshot);
                }
                return snapshot.Endpoints;
            }
        }
    }

    public override IChangeToken GetChangeToken() => Inner.GetChangeToken();

    // Groups ask their own data sources with their prefix and conventions; that is a different build, not shared.
    public override IReadOnlyList<Endpoint> GetGroupedEndpoints(RouteGroupContext context) => Inner.GetGroupedEndpoints(context);

    public override string? ToString() => Inner.ToString();

    /// <summary>
    /// Puts a shared wrapper in place of each data source of <paramref name="sources"/> (the route builder's, which
    /// routing reads), keeping their order, and returns the wrappers.
    /// </summary>
    public static SharedEndpointDataSource[] ShareAll(ICollection<EndpointDataSource> sources)
    {
        var shared = new SharedEndpointDataSource[sources.Count];
        var i = 0;
        foreach (var source in sources)
        {
            shared[i++] = source as SharedEndpointDataSource ?? new SharedEndpointDataSource(source);
        }
        if (sources is IList<EndpointDataSource> list)
        {
            for (i = 0; i < shared.Length; i++)
            {
                if (!ReferenceEquals(list[i], shared[i]))
                {
                    list[i] = shared[i];
                }
            }
        }
        else
        {
            sources.Clear();
            foreach (var source in shared)
            {
                sources.Add(source);
            }
        }
        return shared;
    }

    private sealed record Snapshot(IChangeToken Token, IReadOnlyList<Endpoint> Endpoints);
}
