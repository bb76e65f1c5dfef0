using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Transforms.Builder;

namespace RateGuard.Yarp;

/// <summary>
/// Gives each route that names a <c>TokenBucket.ChargeHeader</c> the response transform that charges what the upstream
/// reports in it. Registered with the configuration filter, which has checked the header by the time YARP builds a
/// route's transforms.
/// </summary>
internal sealed class ChargeHeaderTransformProvider(ILoggerFactory loggers) : ITransformProvider
{
    private readonly ILogger _logger = loggers.CreateLogger("RateGuard.Yarp");

    // The configuration filter refuses an invalid header first, with the route's other limits; nothing is left to check.
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata is not { Count: > 0 })
        {
            return;
        }
        if (RouteChargeHeader.Parse(context.Route, RouteTokenBucketLimits.Parse(context.Route)) is { } header)
        {
            context.ResponseTransforms.Add(new ChargeHeaderTransform(context.Route.RouteId, header, _logger));
        }
    }
}
