using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApplicationModels;
using Microsoft.Extensions.Options;

namespace RateGuard.Http.Sharing;

/// <summary>
/// Marks each unnamed <c>[TokenBucket]</c> of a controller as shared by its actions. The controller's selectors hold
/// the metadata every action of the controller inherits, the attribute instances included, so the mark added there
/// reaches each action's endpoint beside the very attribute it refers to.
/// </summary>
internal sealed class ControllerLimitConvention : IApplicationModelConvention, IConfigureOptions<MvcOptions>
{
    public void Configure(MvcOptions options) => options.Conventions.Add(this);

    public void Apply(ApplicationModel application)
    {
        foreach (var controller in application.Controllers)
        {
            Apply(controller);
        }
    }

    private static void Apply(ControllerModel controller)
    {
        foreach (var attribute in controller.Attributes)
        {
            // A named bucket or a declared limit is shared by name already; a per-endpoint limit is not to be shared.
            if (attribute is TokenBucketAttribute { Limit: null, Bucket: null, PerEndpoint: false } limit)
            {
                var shared = new ControllerLimit(limit, controller.ControllerType);
                foreach (var selector in controller.Selectors)
                {
                    selector.EndpointMetadata.Add(shared);
                }
            }
        }
    }
}
