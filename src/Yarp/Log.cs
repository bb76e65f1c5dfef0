using Microsoft.Extensions.Logging;

namespace RateGuard.Yarp;

internal static partial class Log
{
    // The gateway's own events: ids from 100, apart from the runtime's.
    [LoggerMessage(EventId = 100, EventName = "ChargeHeaderInvalid", Level = LogLevel.Warning,
        Message = "Route '{Route}': the upstream answered with {Header}: '{Value}', which is not a cost (a finite number of tokens, not negative, with '.' as the decimal separator), so the request keeps the cost it was charged up front. Logged once per route.")]
    public static partial void ChargeHeaderInvalid(ILogger logger, string route, string header, string value);

    [LoggerMessage(EventId = 101, EventName = "ChargeHeaderMissing", Level = LogLevel.Warning,
        Message = "Route '{Route}': the upstream answered {Status} without the header {Header}, so the request keeps the cost it was charged up front. Check that the upstream sets the header under this name. Logged once per route.")]
    public static partial void ChargeHeaderMissing(ILogger logger, string route, int status, string header);

    [LoggerMessage(EventId = 102, EventName = "ChargeRefused", Level = LogLevel.Error,
        Message = "Route '{Route}': the upstream reported a cost of {Value} in {Header}, which the route's limits refused; the response goes on. Logged once per route.")]
    public static partial void ChargeRefused(ILogger logger, string route, string header, string value, Exception exception);
}
