namespace RateGuard;

/// <summary>
/// Reports a request's actual cost once the handler knows it (tokens an LLM consumed, rows a search scanned), for each
/// limit of its endpoint that allows it (<see cref="TokenBucketAttribute.MaxCost"/>). Set on
/// <see cref="Microsoft.AspNetCore.Http.HttpContext.Features"/> for requests those limits admitted; call it through
/// <see cref="TokenBucketHttpContextExtensions.ChargeTokens"/>.
/// </summary>
public interface ITokenBucketChargeFeature
{
    /// <summary>
    /// Adds <paramref name="tokens"/> to the request's actual cost, which replaces the cost taken up front: a request
    /// that reports 80 has cost 80 in all. Each limit is charged the difference at once, in whole tokens rounded up and
    /// never more than its <see cref="TokenBucketAttribute.MaxCost"/>; the bucket may go into debt, which the client's
    /// next requests wait to pay back. May be called several times (a stream reporting as it goes), before or after the
    /// response is written, from any thread.
    /// </summary>
    /// <param name="tokens">Tokens to add: finite and not negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// In development only: <paramref name="tokens"/> is negative or not a number, or the total goes above a limit's
    /// maximum. Elsewhere such a charge is clamped (to 0, or to the maximum) and logged.
    /// </exception>
    void Charge(double tokens);

    /// <summary>The actual cost reported so far, before rounding or clamping.</summary>
    double Charged { get; }
}
