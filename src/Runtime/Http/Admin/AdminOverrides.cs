using RateGuard.Operations;

namespace RateGuard.Http.Admin;

/// <summary>
/// The client overrides the page lists, or why it cannot list them: the page still shows everything else while the
/// store cannot be read, or when the operations service keeps no overrides.
/// </summary>
internal sealed record AdminOverrides(IReadOnlyList<TokenBucketClientOverride> Entries, string? Problem)
{
    /// <summary>Reads the overrides in force from the store.</summary>
    public static async Task<AdminOverrides> ReadAsync(ITokenBucketOperations operations, CancellationToken cancellationToken)
    {
        try
        {
            return new AdminOverrides(await operations.GetOverridesAsync(cancellationToken).ConfigureAwait(false), null);
        }
        catch (TokenBucketStoreUnavailableException e)
        {
            return new AdminOverrides([], e.Message);
        }
        catch (NotSupportedException e)
        {
            return new AdminOverrides([], e.Message);
        }
    }
}
