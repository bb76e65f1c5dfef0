namespace RateGuard.Http.Admin;

/// <summary>
/// A request to an admin endpoint that cannot be served as sent (a missing parameter, a body that is not the JSON
/// asked for): answered with <see cref="Status"/> and the message as the problem's detail.
/// </summary>
internal sealed class AdminRequestException(int status, string message) : Exception(message)
{
    /// <summary>The status code of the answer: 400, 413 or 415; 404 or 409 for an override that is not there, or not room for.</summary>
    public int Status { get; } = status;
}
