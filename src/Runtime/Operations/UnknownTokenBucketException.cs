namespace RateGuard.Operations;

/// <summary>An operation named a bucket that the app neither declares nor has used.</summary>
public sealed class UnknownTokenBucketException : KeyNotFoundException
{
    /// <summary>Creates the exception for <paramref name="bucket"/>, with a message that lists or suggests known names.</summary>
    public UnknownTokenBucketException(string bucket, string message) : base(message) => Bucket = bucket;

    /// <summary>The name asked for.</summary>
    public string Bucket { get; }
}
