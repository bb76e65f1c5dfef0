using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using RateGuard.Limiting;
using RateGuard.Operations;

namespace RateGuard.Http.Admin;

/// <summary>
/// The admin page: one self-contained HTML document, rendered on the server. Bucket names and client values are
/// untrusted (a client chooses its header or query value), so every value goes through <see cref="HtmlEncoder"/>,
/// which also escapes quotes and so makes it safe inside the quoted attributes it is placed in.
/// </summary>
internal static class AdminPage
{
    private static readonly HtmlEncoder s_encoder = HtmlEncoder.Default;
    private static readonly string s_style = Resource("RateGuard.admin-page.css");
    private static readonly string s_script = Resource("RateGuard.admin-page.js");

    /// <summary>
    /// The page for <paramref name="snapshot"/>. <paramref name="basePath"/> is the page's own URL path, which the
    /// script's requests are relative to; <paramref name="nonce"/> is the Content-Security-Policy nonce that lets the
    /// page's own script and style run.
    /// </summary>
    public static string Render(AdminSnapshot snapshot, AdminOverrides overrides, string basePath, string nonce, DateTimeOffset now)
    {
        var html = new StringBuilder(16 * 1024);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>Rate limits</title>\n")
            // An empty icon, so the browser does not request /favicon.ico from the app.
            .Append("<link rel=\"icon\" href=\"data:,\">\n")
            .Append("<style nonce=\"").Append(Encode(nonce)).Append("\">\n").Append(s_style).Append("</style>\n")
            .Append("</head>\n<body data-api=\"").Append(Encode(basePath)).Append("\">\n")
            .Append("<header><h1>Rate limits</h1><button type=\"button\" id=\"refresh\">Refresh</button></header>\n")
            .Append("<p id=\"status\" role=\"status\" aria-live=\"polite\"></p>\n");
        AppendData(html, snapshot, overrides, now);
        AppendInspectForm(html, snapshot.Buckets);
        AdminOverridesSection.AppendForm(html, snapshot.Buckets);
        html.Append("<script nonce=\"").Append(Encode(nonce)).Append("\">\n").Append(s_script).Append("</script>\n")
            .Append("</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>
    /// The page's <c>#data</c> section alone: what a refresh fetches and swaps in, with no script or style of its own.
    /// </summary>
    public static string RenderData(AdminSnapshot snapshot, AdminOverrides overrides, DateTimeOffset now)
    {
        var html = new StringBuilder(8 * 1024);
        AppendData(html, snapshot, overrides, now);
        return html.ToString();
    }

    private static void AppendData(StringBuilder html, AdminSnapshot snapshot, AdminOverrides overrides, DateTimeOffset now)
    {
        html.Append("<div id=\"data\">\n");
        html.Append("<p class=\"meta\">What this instance decided over the last ").Append(Duration(TokenBucketActivity.Window))
            .Append(", as of <time datetime=\"").Append(now.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)).Append("\">")
            .Append(now.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append(" UTC</time>.</p>\n");
        AppendServers(html, snapshot.Servers, snapshot.Instances);
        AppendBuckets(html, snapshot.Buckets);
        AppendRejected(html, snapshot.Buckets, now);
        AdminOverridesSection.Append(html, overrides, now);
        html.Append("</div>\n");
    }

    private static void AppendServers(StringBuilder html, IReadOnlyList<StoreServerState> servers, int instances)
    {
        html.Append("<h2>Store</h2>\n");
        html.Append("<p class=\"meta\" id=\"instances\">").Append(instances).Append(instances == 1 ? " instance shares" : " instances share")
            .Append(" the limits: while the store cannot decide, a bucket whose failure mode is Open gets ")
            .Append(instances == 1 ? "all of its limit" : $"1/{instances} of its limit").Append(" on this instance.</p>\n");
        if (servers.Count == 0)
        {
            html.Append("<p class=\"empty\">No store server is known yet.</p>\n");
            return;
        }
        html.Append("<table id=\"servers\">\n<thead><tr><th>Server</th><th>Circuit</th></tr></thead>\n<tbody>\n");
        foreach (var server in servers)
        {
            var (css, text) = server.Circuit switch
            {
                CircuitState.Closed => ("closed", "closed: answering"),
                CircuitState.Open => ("open", "open: failure mode applies"),
                _ => ("halfopen", "half-open: probing"),
            };
            html.Append("<tr><td class=\"name\">").Append(Encode(server.Server)).Append("</td><td><span class=\"badge ")
                .Append(css).Append("\">").Append(text).Append("</span></td></tr>\n");
        }
        html.Append("</tbody>\n</table>\n");
    }

    private static void AppendBuckets(StringBuilder html, IReadOnlyList<AdminBucket> buckets)
    {
        html.Append("<h2>Buckets</h2>\n");
        if (buckets.Count == 0)
        {
            html.Append("<p class=\"empty\">No bucket is declared or used yet.</p>\n");
            return;
        }
        html.Append("<table id=\"buckets\">\n<thead><tr><th>Bucket</th><th class=\"num\">Capacity</th><th class=\"num\">Refill</th>")
            .Append("<th class=\"num\">Cost</th><th>When the store fails</th><th class=\"num\">Admitted</th><th class=\"num\">Rejected</th>")
            .Append("<th class=\"num\">Would reject (shadow)</th></tr></thead>\n<tbody>\n");
        foreach (var bucket in buckets)
        {
            var summary = bucket.Summary;
            var activity = summary.Activity;
            html.Append("<tr><td class=\"name\">").Append(Encode(summary.Name)).Append("</td>")
                .Append("<td class=\"num\">").Append(Number(summary.Capacity)).Append("</td>")
                .Append("<td class=\"num\">").Append(Rate(summary.Rate)).Append("/s</td>")
                .Append("<td class=\"num\">").Append(Number(summary.Cost)).Append("</td>")
                .Append("<td>").Append(summary.FailureMode switch
                {
                    FailureMode.Open => "this instance's share (Open)",
                    FailureMode.AdmitAll => "admit all (AdmitAll)",
                    _ => "reject (Closed)",
                }).Append("</td>")
                .Append("<td class=\"num\">").Append(Rate(activity.AdmittedPerSecond)).Append("/s <span class=\"count\">(")
                .Append(Number(activity.Admitted)).Append(")</span></td>")
                .Append("<td class=\"num").Append(activity.Rejected > 0 ? " rejecting" : "").Append("\">")
                .Append(Rate(activity.RejectedPerSecond)).Append("/s <span class=\"count\">(")
                .Append(Number(activity.Rejected)).Append(")</span></td>")
                .Append("<td class=\"num\">").Append(summary.Mode == TokenBucketMode.Shadow ? Number(activity.ShadowRejected) : "enforced").Append("</td></tr>\n");
        }
        html.Append("</tbody>\n</table>\n");
    }

    private static void AppendRejected(StringBuilder html, IReadOnlyList<AdminBucket> buckets, DateTimeOffset now)
    {
        html.Append("<h2>Most rejected clients</h2>\n");
        if (!buckets.Any(b => b.TopRejected.Count > 0))
        {
            html.Append("<p class=\"empty\">No client was rejected in the last ").Append(Duration(TokenBucketActivity.Window)).Append(".</p>\n");
            return;
        }
        html.Append("<table id=\"rejected\">\n<thead><tr><th>Client</th><th class=\"num\">Rejections</th><th>Last rejected</th><th></th></tr></thead>\n<tbody>\n");
        foreach (var bucket in buckets)
        {
            if (bucket.TopRejected.Count == 0)
            {
                continue;
            }
            var name = Encode(bucket.Summary.Name);
            html.Append("<tr class=\"group\"><td colspan=\"4\" class=\"name\">").Append(name).Append("</td></tr>\n");
            foreach (var client in bucket.TopRejected)
            {
                var key = Encode(client.Key);
                html.Append("<tr><td class=\"key\">").Append(key);
                if (client.IsHashed)
                {
                    html.Append(" <span class=\"note\">(hash of a longer value)</span>");
                }
                html.Append("</td><td class=\"num\">").Append(Number(client.Rejections));
                if (client.Uncertain > 0)
                {
                    html.Append(" <span class=\"count\">(up to ").Append(Number(client.Rejections + client.Uncertain)).Append(")</span>");
                }
                html.Append("</td>")
                    .Append("<td><time datetime=\"").Append(client.LastRejected.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)).Append("\">")
                    .Append(Ago(now - client.LastRejected)).Append("</time></td><td class=\"action\">");
                if (client.IsHashed)
                {
                    // The value itself is not kept, and a reset needs it: the hash would be hashed again.
                    html.Append("<button type=\"button\" disabled title=\"Only the hash of this value is kept; reset it by its full value with POST reset.\">Reset</button>");
                }
                else
                {
                    html.Append("<button type=\"button\" data-reset data-bucket=\"").Append(name).Append("\" data-key=\"").Append(key)
                        .Append("\">Reset</button>");
                }
                html.Append("</td></tr>\n");
            }
        }
        html.Append("</tbody>\n</table>\n");
        if (buckets.Any(b => b.TopRejected.Any(c => c.Uncertain > 0)))
        {
            html.Append("<p class=\"note\" id=\"uncertain\">A count is the rejections this instance is sure of. A client marked ")
                .Append("\"up to\" was kept out of the bounded table for a while by a flood of other values, and may have had up to that many in all.</p>\n");
        }
    }

    private static void AppendInspectForm(StringBuilder html, IReadOnlyList<AdminBucket> buckets)
    {
        html.Append("<h2>Inspect a client</h2>\n<form id=\"inspect\">\n<label>Bucket <select name=\"bucket\" required>");
        foreach (var bucket in buckets)
        {
            var name = Encode(bucket.Summary.Name);
            html.Append("<option value=\"").Append(name).Append("\">").Append(name).Append("</option>");
        }
        html.Append("</select></label>\n<label>Client value <input name=\"key\" required autocomplete=\"off\" placeholder=\"e.g. 203.0.113.7\"></label>\n")
            .Append("<button type=\"submit\" class=\"primary\">Inspect</button>\n</form>\n")
            .Append("<dl id=\"inspect-result\" class=\"result\" hidden></dl>\n");
    }

    internal static string Encode(string value) => s_encoder.Encode(value);

    internal static string Number(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    // Rates and per-second averages: two decimals where they say something, more digits for slow rates, so that one
    // token an hour does not read as 0.
    internal static string Rate(double value) => value switch
    {
        0 => "0",
        >= 100 => value.ToString("#,0", CultureInfo.InvariantCulture),
        >= 0.01 => value.ToString("0.##", CultureInfo.InvariantCulture),
        _ => value.ToString("0.#####", CultureInfo.InvariantCulture),
    };

    private static string Duration(TimeSpan span) =>
        span.TotalMinutes >= 1 && span.Seconds == 0 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0} minutes")
            : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0} seconds");

    private static string Ago(TimeSpan span) => span.TotalSeconds switch
    {
        < 1 => "just now",
        < 60 => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0} s ago"),
        < 3600 => string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0} min ago"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0} h ago"),
    };

    private static string Resource(string name)
    {
        using var stream = typeof(AdminPage).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded resource '{name}' is missing from {typeof(AdminPage).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
