namespace RateGuard.Http.Sharing;

/// <summary>
/// A <c>[TokenBucket]</c> on an MVC controller (declared there or inherited from a base): one bucket for the
/// controller's actions, named after the controller's type, as <c>OrdersController</c>.
/// </summary>
internal sealed class ControllerLimit(TokenBucketAttribute limit, Type controller) : SharedLimit(limit)
{
    public override string? Describe() => controller.Name;
}
