using Microsoft.AspNetCore.WebUtilities;

namespace RateGuard.Http;

/// <summary>
/// The <c>type</c> and <c>title</c> of a problem body for the status code actually sent, so that a rejection
/// configured to answer 503 does not call itself "Too Many Requests".
/// </summary>
internal static class ProblemType
{
    private const string Rfc9110 = "https://www.rfc-editor.org/rfc/rfc9110#section-";

    /// <summary>The problem type and title of <paramref name="status"/>.</summary>
    public static (string Type, string Title) For(int status)
    {
        var title = ReasonPhrases.GetReasonPhrase(status);
        var type = status switch
        {
            429 => "https://www.rfc-editor.org/rfc/rfc6585#section-4",
            >= 400 and <= 417 => Rfc9110 + "15.5." + (status - 399),
            421 => Rfc9110 + "15.5.20",
            422 => Rfc9110 + "15.5.21",
            426 => Rfc9110 + "15.5.22",
            >= 500 and <= 505 => Rfc9110 + "15.6." + (status - 499),
            _ => null,
        };
        // RFC 9457: without a more specific type, "about:blank" says the status code alone describes the problem, and
        // the title is then the status code's reason phrase.
        return type is null || title.Length == 0 ? ("about:blank", title.Length == 0 ? "Status " + status : title) : (type, title);
    }
}
