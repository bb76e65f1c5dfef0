using Microsoft.AspNetCore.Http;

namespace RateGuard;

/// <summary>Reports a request's actual cost to its limits.</summary>
public static class TokenBucketHttpContextExtensions
{
    /// <summary>
    /// Adds <paramref name="tokens"/> to the request's actual cost, for each limit of its endpoint that lets its handler
    /// charge (<see cref="TokenBucketAttribute.MaxCost"/>); see <see cref="ITokenBucketChargeFeature.Charge"/>.
    /// </summary>
    /// <returns>
    /// Whether a limit took the charge; <see langword="false"/> when none of the endpoint's limits charges after the
    /// fact, or none charged this request (its client is exempt, limits are off, or the store could not decide).
    /// </returns>
    public static bool ChargeTokens(this HttpContext context, double tokens)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Features.Get<ITokenBucketChargeFeature>() is not { } feature)
        {
            return false;
        }
        feature.Charge(tokens);
        return true;
    }
}
