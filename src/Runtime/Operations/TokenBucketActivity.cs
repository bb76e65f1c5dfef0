namespace RateGuard.Operations;

/// <summary>What one instance decided for one bucket over the last <see cref="Window"/>.</summary>
/// <param name="Admitted">Requests admitted, by the store, the local fallback or failure mode Open.</param>
/// <param name="Rejected">Requests rejected, by the store, the deny cache, the local fallback or failure mode Closed.</param>
public sealed record TokenBucketActivity(long Admitted, long Rejected)
{
    /// <summary>How far back activity and top rejected clients reach.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    /// <summary>Admitted requests per second, averaged over <see cref="Window"/>.</summary>
    public double AdmittedPerSecond => Admitted / Window.TotalSeconds;

    /// <summary>
    /// Requests the bucket, in shadow mode (<see cref="TokenBucketMode.Shadow"/>), would have rejected and let through;
    /// they count as admitted too.
    /// </summary>
    public long ShadowRejected { get; init; }

    /// <summary>Rejected requests per second, averaged over <see cref="Window"/>.</summary>
    public double RejectedPerSecond => Rejected / Window.TotalSeconds;
}
