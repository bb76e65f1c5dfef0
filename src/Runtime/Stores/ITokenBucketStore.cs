namespace RateGuard.Stores;

/// <summary>Where token buckets live and where decisions are made atomically.</summary>
/// <remarks>
/// A store implements <see cref="AcquireAsync"/> and may leave every other member to its default. The other members say
/// what the store is, so that the limiter, the health check and the operations service can treat it as it needs without
/// knowing its class: whether it is local, its name, whether it takes the request's cancellation token, and what it can
/// do beyond deciding (several buckets at once, inspection, reset, a health check). Their defaults describe a remote
/// store of the app's own that can only decide one bucket at a time, which is how such a store was always treated.
/// The limiter reads <see cref="Name"/>, <see cref="IsLocal"/> and <see cref="TakesRequestCancellation"/> once, when it
/// is built: they describe the store, and must not change.
/// </remarks>
public interface ITokenBucketStore
{
    /// <summary>
    /// Takes <see cref="TokenBucketPolicy.Cost"/> tokens from the bucket of <paramref name="policy"/> for
    /// <paramref name="partitionKey"/> if it holds that many; otherwise takes nothing.
    /// </summary>
    /// <param name="policy">The bucket and the cost of this request.</param>
    /// <param name="partitionKey">The untrusted client value that selects the bucket (an IP, a user id, a header value...).</param>
    /// <param name="cancellationToken">Cancels waiting for the decision.</param>
    ValueTask<RateLimitDecision> AcquireAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default);

    /// <summary>
    /// The store's name in metrics (the <c>rateguard.rate_limiting.store</c> tag of the store-call duration) and, while
    /// it names no servers of its own, as the server of its circuit in metrics, logs and the operations service.
    /// <c>custom</c> by default; the built-in stores are <c>memory</c> and <c>redis</c>.
    /// </summary>
    /// <remarks>Keep it short, lower-case and fixed: it becomes a metric tag value.</remarks>
    string Name => "custom";

    /// <summary>
    /// Whether the buckets live in this process, so that a decision completes synchronously and cannot fail for want
    /// of a connection. <see langword="false"/> by default.
    /// </summary>
    /// <remarks>
    /// The limiter decides for a local store with <see cref="AcquireAll"/>, directly: no time budget, circuit breaker,
    /// deny cache, local fallback or failure mode, none of which a local store needs. The <c>RateLimiter</c> adapter's
    /// synchronous <c>AttemptAcquire</c> asks only a local store. A remote store gets all of them; one of the app's own
    /// is asked one bucket at a time through <see cref="AcquireAsync"/>.
    /// </remarks>
    bool IsLocal => false;

    /// <summary>
    /// Whether <see cref="AcquireAsync"/> is given the token of the request it decides for, so that a client that goes
    /// away cancels the call. <see langword="true"/> by default.
    /// </summary>
    /// <remarks>
    /// Return <see langword="false"/> for a store whose call cannot be stopped halfway: it is then given
    /// <see cref="CancellationToken.None"/>, and the limiter stops waiting for it instead when the client goes away.
    /// The Redis store returns <see langword="false"/>: a script call cannot be recalled once sent, so each carries a
    /// deadline after which it takes nothing.
    /// </remarks>
    bool TakesRequestCancellation => true;

    /// <summary>
    /// Decides, synchronously, one request that draws from several buckets at once: it is admitted only if every
    /// bucket holds its cost, and then every bucket is charged; otherwise none is. Called only on a local store
    /// (<see cref="IsLocal"/>), which must implement it; the default throws <see cref="NotSupportedException"/>.
    /// </summary>
    /// <param name="policies">Each bucket and the cost of this request to it.</param>
    /// <param name="partitionKeys">The client value that selects each bucket, in the order of <paramref name="policies"/>.</param>
    /// <param name="decisions">Receives each bucket's decision, in the order of <paramref name="policies"/>.</param>
    /// <returns>Whether the request is admitted.</returns>
    bool AcquireAll(ReadOnlySpan<TokenBucketPolicy> policies, ReadOnlySpan<string> partitionKeys, Span<RateLimitDecision> decisions) =>
        throw new NotSupportedException($"The token-bucket store {GetType().Name} says it is local but cannot decide a request's buckets together; a local store implements {nameof(AcquireAll)}.");

    /// <summary>
    /// The bucket of <paramref name="partitionKey"/> in <paramref name="policy"/> as the store holds it now, taking
    /// nothing: the decision a request costing nothing would get, with its whole tokens
    /// (<see cref="RateLimitDecision.Remaining"/>) and time to full (<see cref="RateLimitDecision.ResetAfter"/>).
    /// The operations service inspects a bucket with it.
    /// </summary>
    /// <exception cref="NotSupportedException">The store cannot be read without a charge (the default).</exception>
    /// <exception cref="Operations.TokenBucketStoreUnavailableException">The store cannot be reached now.</exception>
    ValueTask<RateLimitDecision> PeekAsync(TokenBucketPolicy policy, string partitionKey, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"The token-bucket store {GetType().Name} cannot be read without taking tokens; a store is inspected through {nameof(PeekAsync)}, which it does not implement.");

    /// <summary>
    /// Makes the bucket named <paramref name="bucket"/> of <paramref name="partitionKey"/> full again, for the
    /// operations service. A store shared by several instances also tells them, so none keeps a rejection it
    /// remembers of that bucket.
    /// </summary>
    /// <exception cref="NotSupportedException">The store has no way to remove a bucket (the default).</exception>
    /// <exception cref="Operations.TokenBucketStoreUnavailableException">The store cannot be reached now.</exception>
    ValueTask ResetAsync(string bucket, string partitionKey, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"The token-bucket store {GetType().Name} has no way to remove a bucket; a store is reset through {nameof(ResetAsync)}, which it does not implement.");

    /// <summary>
    /// Checks, for the app's health checks, that the store can decide now, and describes it in a sentence for the
    /// report. Throw when it cannot: the exception's message, which the report gives followed by the fact that the
    /// failure mode applies, says why. By default nothing is asked and the sentence names the store's type.
    /// </summary>
    /// <param name="timeout">How long the store may take to answer: the decision budget.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <remarks>The limiter's own view comes first: while a remote store's circuit is open, it is not asked.</remarks>
    ValueTask<string> CheckHealthAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        new($"Token buckets in {GetType().Name}.");
}
