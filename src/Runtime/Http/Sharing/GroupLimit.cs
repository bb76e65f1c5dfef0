using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Primitives;

namespace RateGuard.Http.Sharing;

/// <summary>
/// A limit put on a route group with <c>RequireTokenBucket</c>: one bucket for the group's endpoints, nested groups
/// included, named after the group's full prefix (<c>/api/todos</c>).
/// </summary>
/// <remarks>
/// A group does not expose its prefix. It hands it, combined with the prefixes of the groups around it, to each data
/// source mapped in it when it lists its endpoints, so the limit maps one that lists none and keeps the prefix it is
/// given. The group lists its endpoints before any of them reaches the gate table, so the prefix is known by then.
/// </remarks>
internal sealed class GroupLimit : SharedLimit
{
    private readonly PrefixListener _prefix = new();

    private GroupLimit(TokenBucketAttribute limit)
        : base(limit)
    {
    }

    /// <summary>Marks <paramref name="limit"/> as shared by the endpoints of <paramref name="group"/>.</summary>
    public static GroupLimit On(RouteGroupBuilder group, TokenBucketAttribute limit)
    {
        var shared = new GroupLimit(limit);
        ((IEndpointRouteBuilder)group).DataSources.Add(shared._prefix);
        return shared;
    }

    public override string? Describe()
    {
        if (_prefix.Prefix is not { } prefix)
        {
            return null;
        }
        var text = new StringBuilder();
        EndpointBucketName.AppendTemplate(text, prefix);
        return text.ToString();
    }

    // Lists no endpoint; only remembers the prefix its group is mapped under.
    private sealed class PrefixListener : EndpointDataSource
    {
        private static readonly IChangeToken s_never = new CancellationChangeToken(CancellationToken.None);

        private volatile RoutePattern? _prefix;

        public RoutePattern? Prefix => _prefix;

        public override IReadOnlyList<Endpoint> Endpoints => [];

        public override IReadOnlyList<Endpoint> GetGroupedEndpoints(RouteGroupContext context)
        {
            _prefix = context.Prefix;
            return [];
        }

        // Never changes: the group's own data sources say when its endpoints do.
        public override IChangeToken GetChangeToken() => s_never;
    }
}
