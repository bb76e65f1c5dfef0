using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace RateGuard.Configuration;

/// <summary>
/// Says what is wrong with the <c>TokenBuckets</c> configuration when nothing else would: a reload refused because it
/// fails validation, and overrides for buckets that nothing uses. Each finding is logged once, however many times the
/// configuration announces the same change.
/// </summary>
internal sealed class ConfigurationReport(KnownBuckets known, ILogger logger, bool development)
{
    private string? _lastUnknown;
    private string? _lastRefused;

    /// <summary>
    /// Watches the configuration the options are bound from, and logs why a change to options that fail validation
    /// was refused. The options monitor refuses it by itself, whole, but calls no listener to say so.
    /// </summary>
    public void ExplainRefusedReloads(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IOptionsFactory<TokenBucketOptions>>();
        foreach (var source in services.GetServices<IOptionsChangeTokenSource<TokenBucketOptions>>())
        {
            if (source.Name == Options.DefaultName)
            {
                ChangeToken.OnChange(source.GetChangeToken, () => Explain(factory));
            }
        }
    }

    /// <summary>Settings that passed were applied: a later refusal, even one for the same reason, is news again.</summary>
    public void Applied() => Volatile.Write(ref _lastRefused, null);

    /// <summary>
    /// Reports overrides under <c>TokenBuckets:Buckets</c> that name no bucket the app uses: a typo there would
    /// otherwise change nothing, silently. A warning, or an error in Development, that lists the names there are.
    /// </summary>
    public void CheckOverrides(TokenBucketOptions options)
    {
        var names = known.Names;
        List<string>? unknown = null;
        foreach (var key in options.Buckets.Keys)
        {
            if (BucketNames.Matches(key, names).Count == 0)
            {
                (unknown ??= []).Add(key);
            }
        }
        var report = unknown is null ? null : string.Join("\n", unknown);
        if (Interlocked.Exchange(ref _lastUnknown, report) == report || unknown is null)
        {
            return;
        }
        Diagnostics.Log.UnknownBuckets(
            logger,
            development ? LogLevel.Error : LogLevel.Warning,
            string.Join(", ", unknown.Select(u => $"'{u}'")),
            names.Count == 0 ? "none" : string.Join(", ", names.Select(k => $"'{k}' ({BucketNames.EnvironmentForm(k)})")));
    }

    private void Explain(IOptionsFactory<TokenBucketOptions> factory)
    {
        try
        {
            factory.Create(Options.DefaultName);
        }
        catch (OptionsValidationException e)
        {
            Refused(string.Join(" ", e.Failures), null);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or OverflowException)
        {
            // The binder could not read a value (a Timeout of "soon", say).
            Refused(e.Message, e);
        }
    }

    private void Refused(string reason, Exception? exception)
    {
        if (Interlocked.Exchange(ref _lastRefused, reason) != reason)
        {
            Diagnostics.Log.ReloadRefused(logger, reason, exception);
        }
    }
}
