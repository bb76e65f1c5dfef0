using System.Collections.Frozen;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using RateGuard.CompilerServices;

namespace RateGuard.Clients;

/// <summary>What one limit does with a client before its bucket is decided.</summary>
internal enum ClientVerdict
{
    /// <summary>Decided by the bucket, at the policy given.</summary>
    Limited,

    /// <summary>Skips the bucket: an exempt key or an unlimited plan.</summary>
    Exempt,

    /// <summary>Refused with 403: a denied key.</summary>
    Denied,
}

/// <summary>
/// How one limit treats each client under one configuration: the key values it exempts and denies, and, when the
/// limit reads the caller's plan, the policy of each plan. Built with the limit's gate, at startup and on each reload,
/// so a request costs set and dictionary lookups, and a limit with none of this has no rules at all.
/// </summary>
internal sealed class ClientRules
{
    private readonly FrozenSet<string> _exempt;
    private readonly FrozenSet<string> _deny;
    private readonly TokenBucketKeyKind _planKind;
    private readonly string? _planArgument;
    private readonly ITokenBucketPlanResolver? _resolver;
    // Each plan's policy; null for an unlimited plan.
    private readonly FrozenDictionary<string, TokenBucketPolicy?> _plans;
    // What a request checks first, worked out here: a frozen collection's count is a virtual call.
    private readonly bool _exempts;
    private readonly bool _denies;
    private readonly bool _appliesPlans;

    private ClientRules(FrozenSet<string> exempt, FrozenSet<string> deny, PlanSource? source, FrozenDictionary<string, TokenBucketPolicy?> plans)
    {
        _exempt = exempt;
        _deny = deny;
        _plans = plans;
        _exempts = exempt.Count != 0;
        _denies = deny.Count != 0;
        if (source is not null)
        {
            ReadsPlan = true;
            (_planKind, _planArgument, _resolver) = (source.Kind, source.Argument, source.Resolver);
            PlanDescription = source.Description;
            _appliesPlans = plans.Count != 0;
        }
    }

    /// <summary>Whether the limit reads the caller's plan.</summary>
    public bool ReadsPlan { get; }

    /// <summary>Where the plan is read from, as written (<c>claim:plan</c>) or the resolver's C# name.</summary>
    public string? PlanDescription { get; }

    /// <summary>
    /// The rules of a limit whose configured policy is <paramref name="configured"/>, or <see langword="null"/> when it
    /// reads no plan and its bucket lists no key: the limit then treats every client alike.
    /// </summary>
    /// <exception cref="ArgumentException">A plan's capacity or rate makes no valid bucket, or is below the limit's cost.</exception>
    public static ClientRules? Build(TokenBucketPolicy configured, PlanSource? source, DeclaredPlans declared, TokenBucketOptions options)
    {
        var exempt = declared.ExemptOf(configured.Name, options).ToFrozenSet(StringComparer.Ordinal);
        var deny = declared.DenyOf(configured.Name, options).ToFrozenSet(StringComparer.Ordinal);
        if (source is null && exempt.Count == 0 && deny.Count == 0)
        {
            return null;
        }
        var plans = new Dictionary<string, TokenBucketPolicy?>(StringComparer.Ordinal);
        if (source is not null)
        {
            foreach (var (name, plan) in declared.PlansOf(configured.Name, options))
            {
                plans[name] = plan.Unlimited == true ? null : PolicyOf(configured, name, plan);
            }
        }
        return new ClientRules(exempt, deny, source, plans.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private static TokenBucketPolicy PolicyOf(TokenBucketPolicy configured, string name, TokenBucketPlan plan)
    {
        var capacity = plan.Capacity ?? configured.Capacity;
        if (capacity < configured.Cost)
        {
            throw new ArgumentException($"Plan '{name}' of bucket '{configured.Name}' has capacity {capacity}, below the {configured.Cost} tokens a request costs: {LimitRules.CostWithinCapacity}.");
        }
        try
        {
            return new TokenBucketPolicy(configured.Name, capacity, plan.Rate ?? configured.Rate, configured.Cost);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Plan '{name}' of bucket '{configured.Name}' is invalid: {e.Message}", e);
        }
    }

    /// <summary>Whether the bucket's lists exempt or deny <paramref name="key"/>, which takes precedence over anything else.</summary>
    public ClientVerdict Listed(string key) =>
        _denies && _deny.Contains(key) ? ClientVerdict.Denied
        : _exempts && _exempt.Contains(key) ? ClientVerdict.Exempt
        : ClientVerdict.Limited;

    /// <summary>
    /// The policy of the caller's plan in place of <paramref name="policy"/>, when the limit reads plans and the caller
    /// has one the bucket declares; <see cref="ClientVerdict.Exempt"/> when that plan is unlimited.
    /// </summary>
    public ClientVerdict ApplyPlan(HttpContext context, string key, ref TokenBucketPolicy policy)
    {
        if (!_appliesPlans || ReadPlan(context, key) is not { } plan || !_plans.TryGetValue(plan, out var planned))
        {
            return ClientVerdict.Limited;
        }
        if (planned is null)
        {
            return ClientVerdict.Exempt;
        }
        policy = planned;
        return ClientVerdict.Limited;
    }

    private string? ReadPlan(HttpContext context, string key) => _resolver is not null
        ? _resolver.ResolvePlan(context, key)
        : _planKind switch
        {
            TokenBucketKeyKind.Header => TokenBucketKeyReaders.Header(context, _planArgument!),
            TokenBucketKeyKind.Claim => TokenBucketKeyReaders.Claim(context, _planArgument!),
            TokenBucketKeyKind.Route => TokenBucketKeyReaders.Route(context, _planArgument!),
            TokenBucketKeyKind.Query => TokenBucketKeyReaders.Query(context, _planArgument!),
            _ => null,
        };
}

/// <summary>Where a limit reads the caller's plan: a request value, or a resolver the app writes.</summary>
internal sealed class PlanSource
{
    private PlanSource(TokenBucketKeyKind kind, string? argument, ITokenBucketPlanResolver? resolver, string description)
    {
        Kind = kind;
        Argument = argument;
        Resolver = resolver;
        Description = description;
    }

    public TokenBucketKeyKind Kind { get; }

    public string? Argument { get; }

    public ITokenBucketPlanResolver? Resolver { get; }

    public string Description { get; }

    /// <summary>The plan source of a limit that sets <paramref name="plan"/> or a resolver; none when it sets neither.</summary>
    /// <param name="plan">The plan source as written, such as <c>claim:plan</c>.</param>
    /// <param name="resolver">The resolver the limit names, which takes precedence.</param>
    /// <param name="resolverName">The resolver's type as C# names it.</param>
    /// <exception cref="InvalidOperationException"><paramref name="plan"/> is not a plan source.</exception>
    public static PlanSource? Of(string? plan, ITokenBucketPlanResolver? resolver, string? resolverName)
    {
        if (resolver is not null)
        {
            return new PlanSource(default, null, resolver, resolverName ?? resolver.GetType().Name);
        }
        if (plan is null)
        {
            return null;
        }
        if (!TokenBucketKey.TryParsePlan(plan, out var kind, out var argument))
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Plan \"{plan}\" is not valid. Use {TokenBucketKey.ValidPlanForms}."));
        }
        return new PlanSource(kind, argument, null, plan);
    }
}
