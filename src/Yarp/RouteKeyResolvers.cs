using Microsoft.Extensions.DependencyInjection;

namespace RateGuard.Yarp;

/// <summary>
/// The key resolvers a route may name as <c>resolver:&lt;name&gt;</c>, registered in code with
/// <c>AddTokenBucketKeyResolver&lt;T&gt;(name)</c>. A resolver is a type, and configuration can only hold text, so
/// the app gives each type a name; each is created from DI, as a resolver named in <c>[TokenBucket]</c> is.
/// </summary>
internal sealed class RouteKeyResolvers
{
    private readonly Dictionary<string, Func<IServiceProvider, ITokenBucketKeyResolver>> _factories = new(StringComparer.Ordinal);

    public void Add(string name, Func<IServiceProvider, ITokenBucketKeyResolver> factory)
    {
        if (!_factories.TryAdd(name, factory))
        {
            throw new InvalidOperationException($"A token-bucket key resolver named '{name}' is already registered; give each resolver a name of its own.");
        }
    }

    public bool Contains(string name) => _factories.ContainsKey(name);

    /// <summary>Whether <paramref name="name"/> can follow <c>resolver:</c> in a route: letters, digits, '.', '_' and '-'.</summary>
    public static bool IsValidName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }
        return true;
    }

    public IReadOnlyCollection<string> Names => _factories.Keys;

    public ITokenBucketKeyResolver Create(string name, IServiceProvider services) => _factories[name](services);
}
