using System.Collections.Frozen;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using RateGuard.CompilerServices;

namespace RateGuard.Clients;

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
