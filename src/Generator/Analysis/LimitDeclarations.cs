using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using RateGuard.Generator.Diagnostics;
using RateGuard.Generator.Parsing;

namespace RateGuard.Generator.Analysis;

/// <summary>
/// The limits the compilation declares with <c>[assembly: TokenBucketLimit(...)]</c>, read once when its analysis
/// starts, and what a use by name (<c>[TokenBucket("writes")]</c>, <c>RequireTokenBucket("writes")</c>) resolves to:
/// the declaration's limit, placed at the use, so that every check of a key runs where the limit is used.
/// </summary>
internal sealed class LimitDeclarations
{
    // The first declaration of each name, in file and position order: the one a use resolves to, and the one a second
    // declaration of the name is reported against.
    private readonly Dictionary<string, ParsedTokenBucket> _first = new(System.StringComparer.Ordinal);

    public LimitDeclarations(Compilation compilation, INamedTypeSymbol? declarationAttribute)
    {
        if (declarationAttribute is null)
        {
            return;
        }
        var declarations = compilation.Assembly.GetAttributes()
            .Where(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, declarationAttribute))
            .Select(TokenBucketArgumentParser.FromDeclaration)
            .OrderBy(d => d.Location?.SourceTree?.FilePath, System.StringComparer.Ordinal)
            .ThenBy(d => d.Location?.SourceSpan.Start);
        foreach (var declaration in declarations)
        {
            if (declaration.Bucket is { IsConstant: true, Value: { } name } && !_first.ContainsKey(name))
            {
                _first.Add(name, declaration);
            }
        }
    }

    /// <summary>The declared names, in ordinal order.</summary>
    public IEnumerable<string> Names => _first.Keys.OrderBy(n => n, System.StringComparer.Ordinal);

    /// <summary>
    /// A second declaration of a name already declared, reported at the later one; <see langword="null"/> for the
    /// first declaration of its name.
    /// </summary>
    public Diagnostic? Duplicate(ParsedTokenBucket declaration)
    {
        if (declaration.Bucket is not { IsConstant: true, Value: { } name } || !_first.TryGetValue(name, out var first)
            || first.Location is null || declaration.Location is null || first.Location == declaration.Location)
        {
            return null;
        }
        return Diagnostic.Create(DiagnosticDescriptors.DuplicateLimit, declaration.Bucket.Location, [first.Location], name, CompilationEndChecks.Shape(first));
    }

    /// <summary>
    /// What is wrong with a use by name where it is written: a name no declaration has (with the nearest declared one
    /// as a suggestion), and each setting it gives that only its declaration may.
    /// </summary>
    public IEnumerable<Diagnostic> CheckUse(ParsedTokenBucket use)
    {
        if (!use.Limit.IsConstant)
        {
            yield break;
        }
        var name = use.Limit.Value;
        if (name is null || !_first.ContainsKey(name))
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.UnknownLimit, use.Limit.Location, name ?? "null", Hint(name));
        }
        foreach (var (setting, location) in Settings(use))
        {
            yield return Diagnostic.Create(DiagnosticDescriptors.NamedLimitWithSettings, location, name ?? "null", setting);
        }
    }

    /// <summary>
    /// The limit <paramref name="parsed"/> stands for: itself, or for a use by name its declaration placed at the use,
    /// its bucket the limit's name. <see langword="null"/> when the name is not a constant or not declared.
    /// </summary>
    public ParsedTokenBucket? Resolve(ParsedTokenBucket parsed)
    {
        if (!parsed.IsUseByName)
        {
            return parsed;
        }
        if (!parsed.Limit.IsConstant || parsed.Limit.Value is not { } name || !_first.TryGetValue(name, out var declaration))
        {
            return null;
        }
        // Diagnostics about the key are reported at the name, where the limit is used; what the key is stays the
        // declaration's, and no fix may rewrite the name as if it were the key.
        var at = parsed.Limit.Location;
        return new ParsedTokenBucket(parsed.Source, parsed.Location)
        {
            Capacity = At(declaration.Capacity, at),
            Rate = At(declaration.Rate, at),
            Key = At(declaration.Key, at),
            Cost = At(declaration.Cost, at),
            Bucket = At(declaration.Bucket, at),
            KeyResolver = At(declaration.KeyResolver, at),
            Plan = At(declaration.Plan, at),
            PlanResolver = At(declaration.PlanResolver, at),
            Count = At(declaration.Count, at),
            CountRule = At(declaration.CountRule, at),
            MaxCost = At(declaration.MaxCost, at),
            UsedByName = name,
        };
    }

    private static ParsedValue<T> At<T>(ParsedValue<T> value, Location? location) =>
        new(value.Value, value.IsConstant, location, value.IsSpecified);

    private string Hint(string? name)
    {
        var declare = $"declare it with [assembly: TokenBucketLimit(\"{name}\", capacity, rate)]";
        var names = Names.ToList();
        if (names.Count == 0)
        {
            return declare;
        }
        var known = string.Join(", ", names.Select(n => "\"" + n + "\""));
        return name is not null && EditDistance.Closest(names, name, ignoreCase: true) is { } nearest
            ? $"use \"{nearest}\" (the declared limits are {known}), or {declare}"
            : $"use one of the declared limits, {known}, or {declare}";
    }

    // The settings a use by name gives besides its name.
    private static IEnumerable<(string Setting, Location? Location)> Settings(ParsedTokenBucket use)
    {
        (string Setting, bool IsSpecified, Location? Location)[] settings =
        [
            Setting("Key", use.Key),
            Setting("Cost", use.Cost),
            Setting("Bucket", use.Bucket),
            Setting("PerEndpoint", use.PerEndpoint),
            Setting("KeyResolver", use.KeyResolver),
            Setting("Plan", use.Plan),
            Setting("PlanResolver", use.PlanResolver),
            Setting("Count", use.Count),
            Setting("CountRule", use.CountRule),
            Setting("MaxCost", use.MaxCost),
        ];
        return settings.Where(s => s.IsSpecified).Select(s => (s.Setting, s.Location));
    }

    private static (string Setting, bool IsSpecified, Location? Location) Setting<T>(string setting, ParsedValue<T> value) =>
        (setting, value.IsSpecified, value.Location);
}
