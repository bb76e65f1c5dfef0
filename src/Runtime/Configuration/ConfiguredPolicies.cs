using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using RateGuard.Diagnostics;

namespace RateGuard.Configuration;

/// <summary>
/// What the bucket of a declared policy enforces under the options in force, for the buckets that are not built with
/// an endpoint's gates: those of the <c>RateLimiter</c> adapter, which are created on request, and those operators
/// inspect. Worked out once per policy and configuration; an override that cannot apply is logged once per bucket and
/// configuration, however many policies the adapter builds for it.
/// </summary>
internal sealed class ConfiguredPolicies(CurrentOptions options, KnownBuckets known, ILogger logger)
{
    private readonly ConditionalWeakTable<TokenBucketPolicy, ConfiguredUnder> _configured = new();
    private IgnoredOverrides _ignored = new(null);

    /// <summary>Whether limits are enforced now (<see cref="TokenBucketOptions.Enabled"/>).</summary>
    public bool Enforcing => options.Value.Enabled;

    /// <summary>What the bucket of <paramref name="declared"/> enforces now.</summary>
    public ConfiguredPolicy Of(TokenBucketPolicy declared)
    {
        var current = options.Value;
        if (_configured.TryGetValue(declared, out var cached) && ReferenceEquals(cached.Options, current))
        {
            return cached.Configured;
        }
        // The adapter's buckets are created on request: from now on configuration is checked against this one too.
        known.Add(declared);
        var configured = ConfiguredPolicy.Of(current, declared);
        if (configured.IgnoredOverride is { } e)
        {
            var logged = Volatile.Read(ref _ignored);
            if (!ReferenceEquals(logged.Options, current))
            {
                logged = new IgnoredOverrides(current);
                Volatile.Write(ref _ignored, logged);
            }
            if (logged.Buckets.TryAdd(declared.Name, 0))
            {
                Log.OverrideIgnored(logger, declared.Name, e);
            }
        }
        _configured.AddOrUpdate(declared, new ConfiguredUnder(current, configured));
        return configured;
    }

    // A bucket's configured policy and the options it was worked out under, so that a reload is noticed.
    private sealed record ConfiguredUnder(TokenBucketOptions Options, ConfiguredPolicy Configured);

    // The buckets whose override was reported as ignored under one configuration.
    private sealed class IgnoredOverrides(TokenBucketOptions? options)
    {
        public TokenBucketOptions? Options { get; } = options;

        public ConcurrentDictionary<string, byte> Buckets { get; } = new(StringComparer.Ordinal);
    }
}
