namespace RateGuard.Operations;

/// <summary>An operation could not read or write the store (Redis unreachable, too slow, or refusing the call).</summary>
public sealed class TokenBucketStoreUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TokenBucketStoreUnavailableException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }
}
