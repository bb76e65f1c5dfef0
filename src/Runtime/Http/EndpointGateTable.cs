using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;
using RateGuard.Gates;

namespace RateGuard.Http;

/// <summary>
/// Every endpoint's gates, matched at startup from its <c>[TokenBucket]</c> metadata to the generated gates (or to a
/// gate built once from the attribute when no generated one exists). A request then costs one dictionary lookup.
/// </summary>
internal sealed class EndpointGateTable
{
    private readonly ConcurrentDictionary<Endpoint, EndpointGates?> _gates = new(ReferenceEqualityComparer.Instance);
    private readonly IServiceProvider _services;
    private readonly HashSet<Module> _initializedModules = [];

    public EndpointGateTable(EndpointDataSource endpoints, IServiceProvider services)
    {
        _services = services;
        InitializeModule(Assembly.GetEntryAssembly()?.ManifestModule);
        Load(endpoints.Endpoints);
        ChangeToken.OnChange(endpoints.GetChangeToken, () => Load(endpoints.Endpoints));
    }

    /// <summary>The gates of <paramref name="endpoint"/>, or <see langword="null"/> when it is not limited.</summary>
    public EndpointGates? Get(Endpoint endpoint) =>
        // An endpoint that appeared after startup (a dynamic data source) is matched on first sight, once.
        _gates.TryGetValue(endpoint, out var gates) ? gates : _gates.GetOrAdd(endpoint, Build);

    private void Load(IReadOnlyList<Endpoint> endpoints)
    {
        foreach (var endpoint in endpoints)
        {
            _gates.TryAdd(endpoint, Build(endpoint));
        }
    }

    private EndpointGates? Build(Endpoint endpoint)
    {
        var metadata = endpoint.Metadata;
        // [DisableTokenBucket] removes every bucket declared before it: those of the controller or the route group.
        var start = 0;
        for (var i = 0; i < metadata.Count; i++)
        {
            if (metadata[i] is DisableTokenBucketAttribute)
            {
                start = i + 1;
            }
        }

        List<TokenBucketGate>? gates = null;
        var unnamed = 0;
        for (var i = start; i < metadata.Count; i++)
        {
            if (metadata[i] is not TokenBucketAttribute attribute)
            {
                continue;
            }
            if (gates is null)
            {
                // Generated gates register themselves when their module initializes; make sure the module of this
                // endpoint's handler has done so before looking for them.
                InitializeModule(metadata.GetMetadata<MethodInfo>()?.Module);
                gates = [];
            }
            var bucket = attribute.Bucket ?? EndpointBucketName.For(endpoint, unnamed++);
            gates.Add(CreateGate(attribute, bucket, endpoint));
        }
        return gates is null ? null : new EndpointGates([.. gates]);
    }

    private TokenBucketGate CreateGate(TokenBucketAttribute attribute, string bucket, Endpoint endpoint)
    {
        var spec = TokenBucketSpec.From(attribute);
        try
        {
            return TokenBucketGateRegistry.TryGet(spec, out var factory)
                ? factory(bucket, _services)
                : new FallbackTokenBucketGate(spec, bucket, _services);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InvalidOperationException($"The [TokenBucket] limit on endpoint '{endpoint.DisplayName}' is invalid: {e.Message}", e);
        }
    }

    private void InitializeModule(Module? module)
    {
        if (module is null)
        {
            return;
        }
        lock (_initializedModules)
        {
            if (_initializedModules.Add(module))
            {
                RuntimeHelpers.RunModuleConstructor(module.ModuleHandle);
            }
        }
    }
}
