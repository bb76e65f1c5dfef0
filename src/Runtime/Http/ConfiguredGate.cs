using Microsoft.AspNetCore.Http;
using RateGuard.Clients;
using RateGuard.CompilerServices;
using RateGuard.Configuration;
using RateGuard.Gates;
using RateGuard.Outcomes;

namespace RateGuard.Http;

/// <summary>
/// One limit of an endpoint as the middleware enforces it: the gate, which reads the client's key and stays as its
/// attribute made it, beside the policy and failure mode that configuration gives its bucket. A reload builds new ones.
/// </summary>
internal sealed class ConfiguredGate
{
    public ConfiguredGate(TokenBucketGate gate, ConfiguredPolicy configured, ClientRules? clients = null, OutcomeSettings? outcomes = null, bool shadow = false)
    {
        Gate = gate;
        Clients = clients;
        Outcomes = outcomes;
        Shadow = shadow;
        Policy = configured.Policy;
        // A limit that only watches refuses nothing, the store's failures included: it admits unchecked meanwhile.
        FailureMode = shadow ? FailureMode.AdmitAll : configured.FailureMode;
        KeysOnRemoteAddress = gate.KeysOnRemoteAddress;
    }

    /// <summary>The gate of the attribute, generated or built by the runtime.</summary>
    public TokenBucketGate Gate { get; }

    /// <summary>The bucket this limit draws from, with any configuration override applied.</summary>
    public TokenBucketPolicy Policy { get; }

    /// <summary>
    /// How this limit treats particular clients (exempt and denied keys, plans), or <see langword="null"/> when it treats
    /// every client alike.
    /// </summary>
    public ClientRules? Clients { get; }

    /// <summary>
    /// What this limit settles once the response is known (the responses it counts, a charge after the fact), or
    /// <see langword="null"/> when a request's cost is final once it is admitted.
    /// </summary>
    public OutcomeSettings? Outcomes { get; }

    /// <summary>Whether the limit is in shadow mode: it decides and charges, but lets through what it would refuse.</summary>
    public bool Shadow { get; }

    /// <summary>What a request gets through this limit while the store cannot decide.</summary>
    public FailureMode FailureMode { get; }

    /// <inheritdoc cref="TokenBucketGate.KeyDescription"/>
    public string KeyDescription => Gate.KeyDescription;

    /// <inheritdoc cref="TokenBucketGate.KeysOnUser"/>
    public bool KeysOnUser => Gate.KeysOnUser;

    /// <inheritdoc cref="TokenBucketGate.KeysOnRemoteAddress"/>
    public bool KeysOnRemoteAddress { get; }

    /// <inheritdoc cref="TokenBucketGate.GetPartitionKey"/>
    public string? GetPartitionKey(HttpContext context) => Gate.GetPartitionKey(context);
}
