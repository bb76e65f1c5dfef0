using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using RateGuard.Clients;
using RateGuard.CompilerServices;
using RateGuard.Configuration;
using RateGuard.Gates;
using RateGuard.Http.Sharing;
using RateGuard.Outcomes;

namespace RateGuard.Http;

/// <summary>
/// Every endpoint's gates, matched at startup from its <c>[TokenBucket]</c> metadata to the generated gates (or to a
/// gate built once from the attribute when no generated one exists). A request then costs one dictionary lookup.
/// </summary>
internal sealed class EndpointGateTable
{
    private readonly IServiceProvider _services;
    private readonly CurrentOptions _options;
    private readonly KnownBuckets _known;
    private readonly ConfigurationReport _report;
    private readonly ILogger _logger;
    private readonly HashSet<Module> _initializedModules = [];
    private readonly DeclaredPlans _plans;
    // One instance of each plan resolver type for the app, so a resolver's cache serves every limit that names it.
    private readonly Dictionary<Type, ITokenBucketPlanResolver> _planResolvers = [];
    // Likewise one instance of each count rule type.
    private readonly Dictionary<Type, ITokenBucketCountRule> _countRules = [];
    private readonly EndpointBucketName _names = new();
    private readonly object _reloadGate = new();
    // What the table reads: one entry per UseTokenBuckets pipeline, keyed by the route builder's collection.
    private readonly Dictionary<object, EndpointDataSource> _sources = new(ReferenceEqualityComparer.Instance);
    private volatile ConcurrentDictionary<Endpoint, EndpointGates?> _gates = new(ReferenceEqualityComparer.Instance);

    public EndpointGateTable(IServiceProvider services)
    {
        _services = services;
        _options = services.GetRequiredService<CurrentOptions>();
        _known = services.GetRequiredService<KnownBuckets>();
        _plans = services.GetRequiredService<DeclaredPlans>();
        _logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("RateGuard");
        _report = new ConfigurationReport(_known, _logger, services.GetService<IHostEnvironment>()?.IsDevelopment() == true);
        InitializeModule(Assembly.GetEntryAssembly()?.ManifestModule);
        // Overrides of capacity, rate and failure mode come from configuration: rebuild every gate when it reloads.
        // The monitor calls back only with options that passed validation; a reload that did not is refused whole,
        // and the table says so (the monitor cannot: its callback never runs).
        _options.Changed += options =>
        {
            _report.Applied();
            Reload(keepKnown: false);
            _report.CheckOverrides(options);
        };
        _report.ExplainRefusedReloads(services);
        // Names are all known once every pipeline is built, which is when the app has started.
        services.GetService<IHostApplicationLifetime>()?.ApplicationStarted.Register(() => _report.CheckOverrides(_options.Value));
    }

    /// <summary>
    /// Matches the endpoints of <paramref name="routed"/>, the data sources routing matches requests against, to their
    /// gates now, and again whenever they change. The data sources are shared with routing (see
    /// <see cref="SharedEndpointDataSource"/>), so each endpoint is built once, by ASP.NET Core, and the endpoint a
    /// request selects is the one matched here. Without a route builder, the app's <see cref="EndpointDataSource"/>
    /// is read instead. An invalid limit throws, so the app does not start.
    /// </summary>
    public void Track(ICollection<EndpointDataSource>? routed)
    {
        lock (_reloadGate)
        {
            var identity = (object?)routed ?? _services.GetRequiredService<EndpointDataSource>();
            if (_sources.ContainsKey(identity))
            {
                return;
            }
            // A limit declared twice, or under an invalid name, stops the app even where no endpoint uses it yet.
            DeclaredLimits.Check();
            var source = routed is null ? (EndpointDataSource)identity : new CompositeEndpointDataSource(SharedEndpointDataSource.ShareAll(routed));
            var gates = new ConcurrentDictionary<Endpoint, EndpointGates?>(_gates, ReferenceEqualityComparer.Instance);
            AddAll(gates, source.Endpoints, _gates, startup: true);
            // Validation ran before any endpoint was read; now that the names are known, an override in environment
            // form that names two of them stops the app rather than pick one.
            var names = _known.Names;
            foreach (var key in _options.Value.Buckets.Keys)
            {
                if (BucketNames.Matches(key, names) is { Count: > 1 } matches)
                {
                    throw new InvalidOperationException(BucketNames.Ambiguous(key, matches));
                }
            }
            // Plans and client lists that would apply to nobody stop the app too, now that the buckets are known.
            ClientSettingsCheck.ThrowIfMisplaced(_known, _plans, _options.Value);
            _sources.Add(identity, source);
            _gates = gates;
            ChangeToken.OnChange(source.GetChangeToken, () => Reload(keepKnown: true));
        }
    }

    /// <summary>The gates of <paramref name="endpoint"/>, or <see langword="null"/> when it is not limited.</summary>
    public EndpointGates? Get(Endpoint endpoint)
    {
        var gates = _gates;
        // An endpoint the table has not seen (one added between a change and its reload) is matched once, here.
        return gates.TryGetValue(endpoint, out var found) ? found : gates.GetOrAdd(endpoint, BuildOnRequest);
    }

    // On the request path an invalid limit must not fail every request to the endpoint: log it once and leave the
    // endpoint unlimited, as the reload that will follow does.
    private EndpointGates? BuildOnRequest(Endpoint endpoint)
    {
        Diagnostics.Log.EndpointMatchedOnRequest(_logger, endpoint.DisplayName ?? endpoint.ToString() ?? "endpoint");
        try
        {
            return Build(endpoint, startup: false);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or OptionsValidationException)
        {
            Diagnostics.Log.EndpointReloadFailed(_logger, e);
            return null;
        }
    }

    // Endpoints or options changed after startup: build a fresh table, keeping the gates (and so the buckets'
    // identities) of endpoints that are still there when only endpoints changed, and swap it in whole. A failure keeps
    // the old table and is logged, because the change was triggered by someone other than a request.
    private void Reload(bool keepKnown)
    {
        // Endpoint and option changes may arrive together: one reload at a time, so the last published is the newest.
        lock (_reloadGate)
        {
            try
            {
                var gates = new ConcurrentDictionary<Endpoint, EndpointGates?>(ReferenceEqualityComparer.Instance);
                foreach (var source in _sources.Values)
                {
                    AddAll(gates, source.Endpoints, keepKnown ? _gates : null, startup: false);
                }
                _gates = gates;
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or OptionsValidationException)
            {
                Diagnostics.Log.EndpointReloadFailed(_logger, e);
            }
        }
    }

    private void AddAll(ConcurrentDictionary<Endpoint, EndpointGates?> table, IReadOnlyList<Endpoint> endpoints, ConcurrentDictionary<Endpoint, EndpointGates?>? previous, bool startup)
    {
        foreach (var endpoint in endpoints)
        {
            table[endpoint] = previous is not null && previous.TryGetValue(endpoint, out var known) ? known : Build(endpoint, startup);
        }
    }

    private EndpointGates? Build(Endpoint endpoint, bool startup)
    {
        var metadata = endpoint.Metadata;
        List<ConfiguredGate>? gates = null;
        var unnamed = 0;
        // The limits after the last [DisableTokenBucket], by the same rule API descriptions read them.
        foreach (var attribute in EndpointLimits.InForce(metadata))
        {
            if (gates is null)
            {
                // Generated gates register themselves when their module initializes; make sure the module of this
                // endpoint's handler (a minimal-API method or an MVC controller) has done so before looking for them.
                InitializeModule(metadata.GetMetadata<MethodInfo>()?.Module);
                InitializeModule(metadata.GetMetadata<ControllerActionDescriptor>()?.ControllerTypeInfo.Module);
                gates = [];
            }
            // A declared limit used by name is one bucket named after it; a limit of a group or controller is one
            // bucket its endpoints share; any other is the endpoint's own.
            var bucket = attribute.Limit
                ?? attribute.Bucket
                ?? (SharedLimit.Of(metadata, attribute) is { } shared ? _names.For(shared) : null)
                ?? _names.For(endpoint, unnamed++);
            gates.Add(CreateGate(attribute, bucket, endpoint, startup));
        }
        return gates is null ? null : new EndpointGates([.. gates]);
    }

    // The gate is built from the attribute alone; what configuration says of its bucket is worked out beside it.
    private ConfiguredGate CreateGate(TokenBucketAttribute attribute, string bucket, Endpoint endpoint, bool startup)
    {
        var options = _options.Value;
        try
        {
            if (attribute.Limit is { } limit && Overrides(attribute) is { Length: > 0 } overrides)
            {
                throw new InvalidOperationException($"[TokenBucket(\"{limit}\")] also sets {overrides}: {LimitRules.NamedLimitAlone}.");
            }
            var spec = DeclaredLimits.SpecOf(attribute);
            if (attribute.PerEndpoint && attribute.Bucket is not null)
            {
                throw new InvalidOperationException($"PerEndpoint is set with Bucket \"{attribute.Bucket}\": {LimitRules.PerEndpointOrBucket}.");
            }
            var gate = GateBuilder.Build(spec, bucket, _services, options.IPv6PrefixLength);
            _known.Add(gate.Policy);
            var configured = ConfiguredPolicy.Of(options, gate.Policy);
            var plan = PlanSourceOf(attribute);
            if (plan is not null)
            {
                _known.ReadsPlans(bucket);
            }
            var clients = ClientRules.Build(configured.Policy, plan, _plans, options);
            if (configured.IgnoredOverride is { } ignored)
            {
                if (startup)
                {
                    // At startup a bad override stops the app, reported as an invalid limit of this endpoint.
                    ExceptionDispatchInfo.Throw(ignored);
                }
                // After it, validation refuses a reload whose override no request of a known bucket could pass; an
                // endpoint added since is the one case left, and only its bucket keeps the limit declared in code.
                Diagnostics.Log.OverrideIgnored(_logger, bucket, ignored);
            }
            return new ConfiguredGate(gate, configured, clients, OutcomesOf(attribute, bucket, configured.Policy, options), options.IsShadow(bucket));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InvalidOperationException($"The [TokenBucket] limit on endpoint '{endpoint.DisplayName}' is invalid: {e.Message}", e);
        }
    }

    // Where the limit reads the caller's plan: its own Plan or PlanResolver, or its declaration's for a use by name.
    private PlanSource? PlanSourceOf(TokenBucketAttribute attribute)
    {
        if (attribute.Limit is { } limit)
        {
            return DeclaredLimits.DeclarationOf(limit) is { } declared
                ? PlanSource.Of(declared.Plan, declared.PlanResolver is { } declaredType ? PlanResolver(declaredType) : null, declared.PlanResolver is { } t ? CSharpTypeName.Of(t) : null)
                : null;
        }
        return PlanSource.Of(attribute.Plan, attribute.PlanResolver is { } type ? PlanResolver(type) : null, attribute.PlanResolver is { } named ? CSharpTypeName.Of(named) : null);
    }

    // What the limit settles after its response: its count and maximum cost as declared (its own, or its declaration's
    // for a use by name), each replaced by the bucket's configuration when it sets one.
    private OutcomeSettings? OutcomesOf(TokenBucketAttribute attribute, string bucket, TokenBucketPolicy policy, TokenBucketOptions options)
    {
        var declared = attribute.Limit is { } limit ? DeclaredLimits.DeclarationOf(limit) : null;
        var count = declared is null ? attribute.Count : declared.Count;
        var countRule = declared is null ? attribute.CountRule : declared.CountRule;
        var maxCost = declared is null ? attribute.MaxCost : declared.MaxCost;
        var settings = options.SettingsOf(bucket);
        OutcomeRule? rule;
        if (settings?.Count is { } configured)
        {
            rule = OutcomeRule.Parse(configured);
        }
        else if (countRule is not null)
        {
            rule = OutcomeRule.Of(CountRule(countRule), CSharpTypeName.Of(countRule));
        }
        else
        {
            rule = count is null ? null : ParseDeclared(count);
        }
        maxCost = settings?.MaxCost ?? maxCost;
        if (!TokenBucketLimits.IsValidMaxCost(maxCost, policy.Cost, policy.Rate))
        {
            throw new ArgumentException($"MaxCost {maxCost} is invalid with a cost of {policy.Cost} at rate {policy.Rate.ToString(System.Globalization.CultureInfo.InvariantCulture)}: {LimitRules.MaxCost}.");
        }
        return rule is null && maxCost == 0 ? null : new OutcomeSettings(rule, maxCost);
    }

    private static OutcomeRule? ParseDeclared(string count)
    {
        try
        {
            return OutcomeRule.Parse(count);
        }
        catch (FormatException e)
        {
            throw new ArgumentException(e.Message, e);
        }
    }

    private ITokenBucketCountRule CountRule([DynamicallyAccessedMembers(ResolverInstances.Constructors)] Type type)
    {
        lock (_countRules)
        {
            if (!_countRules.TryGetValue(type, out var rule))
            {
                _countRules[type] = rule = ResolverInstances.Create<ITokenBucketCountRule>(type, CSharpTypeName.Of(type), "count rule", _services);
            }
            return rule;
        }
    }

    private ITokenBucketPlanResolver PlanResolver([DynamicallyAccessedMembers(ResolverInstances.Constructors)] Type type)
    {
        lock (_planResolvers)
        {
            if (!_planResolvers.TryGetValue(type, out var resolver))
            {
                _planResolvers[type] = resolver = ResolverInstances.Create<ITokenBucketPlanResolver>(type, CSharpTypeName.Of(type), "plan resolver", _services);
            }
            return resolver;
        }
    }

    // What a use by name sets besides the name, which only its declaration may say.
    private static string Overrides(TokenBucketAttribute attribute)
    {
        var set = new List<string>();
        if (attribute.Key != TokenBucketKey.Ip)
        {
            set.Add("Key");
        }
        if (attribute.Cost != 1)
        {
            set.Add("Cost");
        }
        if (attribute.Bucket is not null)
        {
            set.Add("Bucket");
        }
        if (attribute.PerEndpoint)
        {
            set.Add("PerEndpoint");
        }
        if (attribute.KeyResolver is not null)
        {
            set.Add("KeyResolver");
        }
        if (attribute.Plan is not null)
        {
            set.Add("Plan");
        }
        if (attribute.PlanResolver is not null)
        {
            set.Add("PlanResolver");
        }
        if (attribute.Count is not null)
        {
            set.Add("Count");
        }
        if (attribute.CountRule is not null)
        {
            set.Add("CountRule");
        }
        if (attribute.MaxCost != 0)
        {
            set.Add("MaxCost");
        }
        return string.Join(", ", set);
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
                // The limits this module's endpoints may use by name: registered just now, or read from its attributes.
                DeclaredLimits.Read(module.Assembly);
            }
        }
    }
}
