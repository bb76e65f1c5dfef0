using Microsoft.CodeAnalysis;

namespace RateGuard.Generator.Parsing;

/// <summary>One argument of a token-bucket limit as written: whether it was given, whether its value is a compile-time constant, and where it is.</summary>
internal readonly struct ParsedValue<T>
{
    public ParsedValue(T value, bool isConstant, Location? location, bool isSpecified)
    {
        Value = value;
        IsConstant = isConstant;
        Location = location;
        IsSpecified = isSpecified;
    }

    /// <summary>The value, when <see cref="IsConstant"/>; otherwise the default.</summary>
    public T Value { get; }

    /// <summary>Whether the compiler knows the value.</summary>
    public bool IsConstant { get; }

    /// <summary>Where the argument is written, or the whole limit's location when it is not written.</summary>
    public Location? Location { get; }

    /// <summary>Whether the argument was written rather than left at its default.</summary>
    public bool IsSpecified { get; }

    public static ParsedValue<T> Default(T value, Location? location) => new(value, true, location, false);

    public static ParsedValue<T> Unknown(Location? location) => new(default!, false, location, true);
}
