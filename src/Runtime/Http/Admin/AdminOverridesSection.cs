using System.Globalization;
using System.Text;

namespace RateGuard.Http.Admin;

/// <summary>
/// The page's client overrides: the list, in the refreshed data section, each with a Remove button; and the form that
/// sets one, beside the inspect form. Every value is HTML-encoded as the rest of the page's are.
/// </summary>
internal static class AdminOverridesSection
{
    /// <summary>The overrides in force, with their expiry and a Remove button each.</summary>
    public static void Append(StringBuilder html, AdminOverrides overrides, DateTimeOffset now)
    {
        html.Append("<h2>Client overrides</h2>\n");
        if (overrides.Problem is { } problem)
        {
            html.Append("<p class=\"empty\" id=\"overrides-problem\">").Append(AdminPage.Encode(problem)).Append("</p>\n");
            return;
        }
        if (overrides.Entries.Count == 0)
        {
            html.Append("<p class=\"empty\">No client has limits of its own: set one below.</p>\n");
            return;
        }
        html.Append("<table id=\"overrides\">\n<thead><tr><th>Bucket</th><th>Client</th><th class=\"num\">Capacity</th><th class=\"num\">Refill</th>")
            .Append("<th>Expires</th><th></th></tr></thead>\n<tbody>\n");
        foreach (var entry in overrides.Entries)
        {
            var bucket = AdminPage.Encode(entry.Bucket);
            var key = AdminPage.Encode(entry.Key);
            var expires = entry.ExpiresAt.UtcDateTime;
            html.Append("<tr><td class=\"name\">").Append(bucket).Append("</td><td class=\"key\">").Append(key).Append("</td>")
                .Append("<td class=\"num\">").Append(AdminPage.Number(entry.Capacity)).Append("</td>")
                .Append("<td class=\"num\">").Append(AdminPage.Rate(entry.Rate)).Append("/s</td>")
                .Append("<td><time datetime=\"").Append(expires.ToString("O", CultureInfo.InvariantCulture)).Append("\">")
                .Append(expires.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append(" UTC</time> <span class=\"count\">(")
                .Append(Left(entry.ExpiresAt - now)).Append(")</span></td>")
                .Append("<td class=\"action\"><button type=\"button\" data-remove-override data-bucket=\"").Append(bucket)
                .Append("\" data-key=\"").Append(key).Append("\">Remove</button></td></tr>\n");
        }
        html.Append("</tbody>\n</table>\n");
    }

    /// <summary>The form that gives one client its own limits on one bucket.</summary>
    public static void AppendForm(StringBuilder html, IReadOnlyList<AdminBucket> buckets)
    {
        html.Append("<h2>Set a client override</h2>\n<form id=\"override\">\n<label>Bucket <select name=\"bucket\" required>");
        foreach (var bucket in buckets)
        {
            var name = AdminPage.Encode(bucket.Summary.Name);
            html.Append("<option value=\"").Append(name).Append("\">").Append(name).Append("</option>");
        }
        html.Append("</select></label>\n<label>Client value <input name=\"key\" required autocomplete=\"off\" placeholder=\"e.g. 203.0.113.7\"></label>\n")
            .Append("<label>Capacity <input name=\"capacity\" type=\"number\" required min=\"1\" step=\"1\" class=\"short\"></label>\n")
            .Append("<label>Refill per second <input name=\"rate\" type=\"number\" required min=\"0\" step=\"any\" class=\"short\"></label>\n")
            .Append("<label>Lasts, in minutes <input name=\"minutes\" type=\"number\" required min=\"0\" step=\"any\" value=\"60\" class=\"short\"></label>\n")
            .Append("<button type=\"submit\" class=\"primary\">Set</button>\n</form>\n");
    }

    // How long an override has left, as a person reads it.
    private static string Left(TimeSpan span) => span.TotalSeconds switch
    {
        < 1 => "ending",
        < 60 => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalSeconds} s left"),
        < 2 * 3600 => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes} min left"),
        < 2 * 86_400 => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours} h left"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalDays} days left"),
    };
}
