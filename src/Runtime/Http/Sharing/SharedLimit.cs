namespace RateGuard.Http.Sharing;

/// <summary>
/// Endpoint metadata that marks a limit declared once for many endpoints, on a route group or a controller: every
/// endpoint it reaches draws from one bucket, named after the group's prefix or the controller, as ASP.NET Core's
/// policies on groups and controllers share one partition. It sits in each endpoint's metadata beside the
/// <see cref="TokenBucketAttribute"/> it refers to.
/// </summary>
internal abstract class SharedLimit(TokenBucketAttribute limit)
{
    /// <summary>The limit this marks, the very instance in the metadata of each endpoint it reaches.</summary>
    public TokenBucketAttribute Limit { get; } = limit;

    /// <summary>
    /// The name of the bucket, before it is told apart from another declaration's: the group's prefix
    /// (<c>/todos</c>), or the controller's type name (<c>OrdersController</c>). <see langword="null"/> when it cannot
    /// be known, and each endpoint then keeps a bucket of its own.
    /// </summary>
    public abstract string? Describe();

    /// <summary>The marker in <paramref name="metadata"/> for <paramref name="limit"/>, if the limit is shared.</summary>
    public static SharedLimit? Of(IReadOnlyList<object> metadata, TokenBucketAttribute limit)
    {
        for (var i = 0; i < metadata.Count; i++)
        {
            if (metadata[i] is SharedLimit shared && ReferenceEquals(shared.Limit, limit))
            {
                return shared;
            }
        }
        return null;
    }
}
