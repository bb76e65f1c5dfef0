using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using RateGuard.Generator.Models;

namespace RateGuard.Generator.Emitting;

/// <summary>
/// Names each generated gate class after the limit it implements, such as <c>TokenBucketGate_Capacity10_Rate5_Ip</c>,
/// so a gate keeps its name when other limits come and go, and a diff of the generated file shows only what changed.
/// </summary>
/// <remarks>
/// <para>
/// The parts always come in the same order (capacity, rate, cost when it is not 1, then the key), and none of the
/// numeric parts holds an underscore, so a key made of ASCII letters, digits and '_' reads back to one limit. Where
/// the key had to lose characters to become an identifier (<c>header:X-Api-Key</c> becomes <c>Header_X_Api_Key</c>)
/// and for resolvers, named without their namespace because a full name makes a long class name, the name ends in a
/// hash of the whole spec.
/// </para>
/// <para>
/// The hash is FNV-1a over the spec's text, not <see cref="string.GetHashCode()"/>, which differs from one process
/// to the next. Should two specs still end up with one name, the later one in spec order gets a numeric suffix, so
/// names never collide.
/// </para>
/// </remarks>
internal static class GateNames
{
    private const string Prefix = "TokenBucketGate_";

    /// <summary>The class name of each spec, in the order of <paramref name="specs"/>.</summary>
    public static string[] For(EquatableArray<GateSpec> specs)
    {
        var names = new string[specs.Count];
        var taken = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < specs.Count; i++)
        {
            var name = Of(specs[i]);
            var unique = name;
            for (var n = 2; !taken.Add(unique); n++)
            {
                unique = name + "_" + Literals.Int(n);
            }
            names[i] = unique;
        }
        return names;
    }

    /// <summary>The name of one spec, before any suffix that keeps names apart.</summary>
    public static string Of(GateSpec spec)
    {
        var name = new StringBuilder(Prefix);
        name.Append("Capacity").Append(Literals.Int(spec.Capacity));
        name.Append("_Rate");
        // "0.5" reads as 0p5 and "1E-05" as 1Em05: identifier characters that cannot be mistaken for a separator.
        foreach (var c in Literals.Rate(spec.Rate))
        {
            if (c != '+')
            {
                name.Append(c switch { '.' => 'p', '-' => 'm', _ => c });
            }
        }
        if (spec.Cost != 1)
        {
            name.Append("_Cost").Append(Literals.Int(spec.Cost));
        }

        bool lossless;
        if (spec.Resolver is { } resolver)
        {
            name.Append("_Resolver_");
            AppendIdentifier(name, SimpleName(resolver.DisplayName));
            lossless = false;
        }
        else
        {
            TokenBucketKey.TryParse(spec.Key, out var kind, out var argument);
            name.Append('_').Append(kind.ToString());
            lossless = true;
            if (argument is not null)
            {
                name.Append('_');
                lossless = AppendIdentifier(name, argument);
            }
        }

        if (!lossless)
        {
            name.Append('_').Append(Hash(spec).ToString("X8", CultureInfo.InvariantCulture));
        }
        return name.ToString();
    }

    /// <summary>A type's name without its namespace or containing types, which the hash stands in for.</summary>
    private static string SimpleName(string displayName)
    {
        var generic = displayName.IndexOf('<');
        var end = generic < 0 ? displayName.Length : generic;
        var dot = displayName.LastIndexOf('.', end - 1);
        return dot < 0 ? displayName : displayName.Substring(dot + 1);
    }

    /// <summary>Appends <paramref name="text"/> with every character but ASCII letters, digits and '_' as '_'.</summary>
    /// <returns>Whether every character was kept as it is.</returns>
    private static bool AppendIdentifier(StringBuilder name, string text)
    {
        var lossless = text.Length > 0;
        foreach (var c in text)
        {
            var keep = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_';
            name.Append(keep ? c : '_');
            lossless &= keep;
        }
        return lossless;
    }

    private static uint Hash(GateSpec spec)
    {
        var text = string.Join("|",
            Literals.Int(spec.Capacity),
            Literals.Rate(spec.Rate),
            Literals.Int(spec.Cost),
            spec.Key ?? "",
            spec.Resolver?.FullyQualifiedName ?? "");
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return hash;
    }
}
