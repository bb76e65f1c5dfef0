using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Transforms;

namespace RateGuard.Yarp;

/// <summary>
/// Charges each request to a route the cost its upstream reports in a response header
/// (<c>TokenBucket.ChargeHeader</c>), through <see cref="TokenBucketHttpContextExtensions.ChargeTokens"/>, as a
/// handler of the app's own would. The header is read from the upstream's response as it arrived, so another transform
/// that removes it from the client's response does not hide it, and it is left for the client to see.
/// </summary>
/// <remarks>
/// One instance per route, built each time YARP builds the route's transforms. A value that is not a cost, a successful
/// response without the header and a cost the limits refuse are each logged once per instance: the first says what is
/// wrong, and the next thousand would only repeat it.
/// </remarks>
internal sealed class ChargeHeaderTransform(string route, string header, ILogger logger) : ResponseTransform
{
    private int _invalidReported;
    private int _missingReported;
    private int _refusedReported;

    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        // No response: the upstream could not be reached, and the request keeps the cost it was charged up front.
        if (context.ProxyResponse is not { } response)
        {
            return default;
        }
        if (!response.Headers.NonValidated.TryGetValues(header, out var values) && !response.Content.Headers.NonValidated.TryGetValues(header, out values))
        {
            if ((int)response.StatusCode is >= 200 and < 300 && Interlocked.Exchange(ref _missingReported, 1) == 0)
            {
                Log.ChargeHeaderMissing(logger, route, (int)response.StatusCode, header);
            }
            return default;
        }
        // Several values are one value the upstream sent twice, or a list: neither is a cost.
        var value = values.ToString();
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var tokens) || !double.IsFinite(tokens) || tokens < 0)
        {
            if (Interlocked.Exchange(ref _invalidReported, 1) == 0)
            {
                Log.ChargeHeaderInvalid(logger, route, header, value);
            }
            return default;
        }
        Charge(context.HttpContext, tokens, value);
        return default;
    }

    private void Charge(HttpContext context, double tokens, string value)
    {
        try
        {
            context.ChargeTokens(tokens);
        }
        catch (ArgumentOutOfRangeException e)
        {
            // In development a cost above a limit's maximum throws, to name the mistake. Here the mistake is the
            // upstream's and the response is already on its way: failing the transform would turn it into a 502.
            if (Interlocked.Exchange(ref _refusedReported, 1) == 0)
            {
                Log.ChargeRefused(logger, route, header, value, e);
            }
        }
    }
}
