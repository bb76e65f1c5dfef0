namespace RateGuard.Operations;

/// <summary>A client that one bucket rejected on this instance, with how sure that count is.</summary>
/// <remarks>
/// Rejected clients are counted in a small table per bucket, so that a flood of distinct values cannot grow memory:
/// when the table is full, a newcomer takes the place of the least rejected entry. What the newcomer did before it
/// entered is not known, only that it was rejected no more often than the entry it replaced, so that count is kept
/// apart as <see cref="Uncertain"/>. Within <see cref="TokenBucketActivity.Window"/>, this instance rejected the client
/// at least <see cref="Rejections"/> and at most <see cref="Rejections"/> + <see cref="Uncertain"/> times.
/// </remarks>
/// <param name="Key">
/// The client value as the limit read it. A value longer than <see cref="MaxTrackedKeyLength"/> characters is given in
/// the hashed form its storage key uses (<c>#</c> and base64url), which cannot be reset by value.
/// </param>
/// <param name="Rejections">
/// Requests rejected within <see cref="TokenBucketActivity.Window"/> that were counted for this client: a lower bound
/// on its true count, and exact when <see cref="Uncertain"/> is 0.
/// </param>
/// <param name="Uncertain">
/// How many more rejections the client may have had within the window while a flood of other values kept it out of the
/// table: 0 when none can have been missed.
/// </param>
/// <param name="LastRejected">When the latest of them was rejected.</param>
public sealed record RejectedClient(string Key, long Rejections, long Uncertain, DateTimeOffset LastRejected)
{
    /// <summary>The longest client value kept as it is; longer ones are kept by their hash.</summary>
    public const int MaxTrackedKeyLength = 256;

    /// <summary>Whether <see cref="Key"/> is the hash of a longer value rather than the value itself.</summary>
    public bool IsHashed => Key.Length == Stores.BucketKey.HashedValueLength && Key[0] == '#';
}
