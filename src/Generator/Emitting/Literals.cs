using System.Globalization;
using Microsoft.CodeAnalysis.CSharp;

namespace RateGuard.Generator.Emitting;

/// <summary>
/// Writes values as C# literals, the same on every machine: the generated file must not depend on the culture or the
/// runtime the compiler runs on.
/// </summary>
internal static class Literals
{
    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A <see langword="double"/> literal, such as <c>0.5d</c>.</summary>
    public static string Double(double value) => Rate(value) + "d";

    /// <summary>
    /// The exact double the attribute holds, so the runtime finds a gate by its spec. "R" is short and exact on modern
    /// runtimes; where the compiler runs on .NET Framework it can miss by a bit, so check and fall back to G17.
    /// </summary>
    public static string Rate(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        if (double.Parse(text, CultureInfo.InvariantCulture) != value)
        {
            text = value.ToString("G17", CultureInfo.InvariantCulture);
        }
        return text;
    }

    /// <summary>A quoted, escaped string literal, or <c>null</c>.</summary>
    public static string String(string? value) => value is null ? "null" : SymbolDisplay.FormatLiteral(value, quote: true);
}
