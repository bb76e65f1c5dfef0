namespace RateGuard;

/// <summary>Whether a bucket's rejections are enforced, or only watched.</summary>
public enum TokenBucketMode
{
    /// <summary>A request the bucket rejects is refused: the default.</summary>
    Enforce,

    /// <summary>
    /// Every decision is made and charged as usual, but a request the bucket would reject goes on, without taking its
    /// tokens. It is counted in the metrics (result <c>shadow_rejected</c>) and in the operations service
    /// (<c>shadowRejected</c>), and logged at most once a minute per bucket; its rate-limit headers are those a rejection
    /// would carry. For rolling a new limit out by watching what it would reject first.
    /// </summary>
    Shadow,
}
