namespace RateGuard.Operations;

/// <summary>A client that one bucket rejected on this instance.</summary>
/// <param name="Key">
/// The client value as the limit read it. A value longer than <see cref="MaxTrackedKeyLength"/> characters is given in
/// the hashed form its storage key uses (<c>#</c> and base64url), which cannot be reset by value.
/// </param>
/// <param name="Rejections">Requests rejected within <see cref="TokenBucketActivity.Window"/>.</param>
/// <param name="LastRejected">When the latest of them was rejected.</param>
public sealed record RejectedClient(string Key, long Rejections, DateTimeOffset LastRejected)
{
    /// <summary>The longest client value kept as it is; longer ones are kept by their hash.</summary>
    public const int MaxTrackedKeyLength = 256;

    /// <summary>Whether <see cref="Key"/> is the hash of a longer value rather than the value itself.</summary>
    public bool IsHashed => Key.Length == Stores.BucketKey.HashedValueLength && Key[0] == '#';
}
