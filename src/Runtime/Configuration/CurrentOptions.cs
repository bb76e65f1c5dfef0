using Microsoft.Extensions.Options;

namespace RateGuard.Configuration;

/// <summary>
/// The token-bucket options in force, one snapshot for every part of the limiter: those of startup, then those of each
/// configuration reload that passed validation. Every part reads <see cref="Value"/> when it acts, so a reload reaches
/// the middleware, the limiter and the gate table alike; a part that must do something when the options change (the
/// gate table rebuilds its gates, the limiter forgets rejections decided under the old limits) listens to
/// <see cref="Changed"/>.
/// </summary>
/// <remarks>
/// The monitor's own current value throws for as long as the configuration is invalid, so it is read once here and
/// never again: a reload that fails validation leaves the previous snapshot in force. Settings that shape what is built
/// once (the Redis connection, the key prefix, the clock, the breaker, the deny cache's size) are read from the
/// snapshot of startup and stay as they were until the app restarts; docs/configuration.md lists which.
/// </remarks>
internal sealed class CurrentOptions : IDisposable
{
    private readonly IDisposable? _subscription;
    private volatile TokenBucketOptions _value;

    public CurrentOptions(IOptionsMonitor<TokenBucketOptions> monitor)
    {
        _value = monitor.CurrentValue;
        _subscription = monitor.OnChange(options =>
        {
            _value = options;
            Changed?.Invoke(options);
        });
    }

    /// <summary>The options in force now.</summary>
    public TokenBucketOptions Value => _value;

    /// <summary>Raised with the new options once a reload that passed validation is in force.</summary>
    public event Action<TokenBucketOptions>? Changed;

    public void Dispose() => _subscription?.Dispose();
}
