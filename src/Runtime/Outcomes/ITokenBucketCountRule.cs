namespace RateGuard;

/// <summary>
/// Decides which responses a limit counts, from the status code the app wrote
/// (<see cref="TokenBucketAttribute.CountRule"/>): a request is charged up front, and given its cost back when its
/// response does not count.
/// </summary>
/// <remarks>
/// One instance serves the whole app, from dependency injection when the type is registered there, otherwise created
/// once with its parameterless constructor; it is called from many requests at once, after each response, so keep it
/// quick and free of shared state that is not thread-safe.
/// </remarks>
public interface ITokenBucketCountRule
{
    /// <summary>Whether a response with <paramref name="statusCode"/> counts. A request that threw is asked with 500.</summary>
    bool Counts(int statusCode);
}
