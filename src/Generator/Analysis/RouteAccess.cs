namespace RateGuard.Generator.Analysis;

/// <summary>
/// What the analyzer knows of who may call the endpoints of a route builder, from the conventions it can see applied
/// to it and to the groups around it. Ordered: where several are known, the greatest holds.
/// </summary>
internal enum RouteAccess
{
    /// <summary>Nothing requires authorization, and nothing out of sight can add it: anonymous callers reach an endpoint that does not require it itself.</summary>
    Open,

    /// <summary>The builder is kept or passed where conventions out of sight may require authorization.</summary>
    Unknown,

    /// <summary><c>RequireAuthorization</c> is applied to it or to a group around it.</summary>
    Authorized,

    /// <summary><c>AllowAnonymous</c> is applied to it or to a group around it, which no authorization overrides.</summary>
    Anonymous,
}
