using System.Globalization;

namespace RateGuard.Clients;

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
