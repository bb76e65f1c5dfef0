using System.Text;

namespace RateGuard.Gates;

/// <summary>
/// A type's name as the C# compiler writes it in its messages: namespace-qualified, nested types joined by a dot,
/// generic arguments in angle brackets, keywords for the built-in types and tuple and nullable syntax. Generated gates
/// describe their resolver by the name the compiler gives it, so the fallback gate spells the same resolver the same way
/// in logs and problem details.
/// </summary>
internal static class CSharpTypeName
{
    /// <summary>The C# name of <paramref name="type"/>, such as <c>MyApp.Keys.TenantKey&lt;int?&gt;</c>.</summary>
    public static string Of(Type type)
    {
        var text = new StringBuilder();
        Append(text, type);
        return text.ToString();
    }

    private static void Append(StringBuilder text, Type type)
    {
        if (type.IsArray)
        {
            Append(text, type.GetElementType()!);
            text.Append('[').Append(',', type.GetArrayRank() - 1).Append(']');
            return;
        }
        if (type.IsGenericParameter)
        {
            text.Append(type.Name);
            return;
        }
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            Append(text, underlying);
            text.Append('?');
            return;
        }
        if (Keyword(type) is { } keyword)
        {
            text.Append(keyword);
            return;
        }
        if (IsTuple(type))
        {
            AppendTuple(text, type);
            return;
        }
        AppendNamed(text, type);
    }

    // Each enclosing type carries the generic arguments of its own level only; a nested type's argument list holds
    // those of every level, outermost first.
    private static void AppendNamed(StringBuilder text, Type type)
    {
        var chain = new List<Type>();
        for (var level = type; level is not null; level = level.DeclaringType)
        {
            chain.Add(level);
        }
        if (!string.IsNullOrEmpty(type.Namespace))
        {
            text.Append(type.Namespace).Append('.');
        }
        var arguments = type.GetGenericArguments();
        var written = 0;
        for (var i = chain.Count - 1; i >= 0; i--)
        {
            var name = chain[i].Name;
            var tick = name.IndexOf('`', StringComparison.Ordinal);
            text.Append(tick < 0 ? name : name[..tick]);
            var through = chain[i].GetGenericArguments().Length;
            if (through > written)
            {
                text.Append('<');
                for (var a = written; a < through; a++)
                {
                    if (a > written)
                    {
                        text.Append(", ");
                    }
                    Append(text, arguments[a]);
                }
                text.Append('>');
                written = through;
            }
            if (i > 0)
            {
                text.Append('.');
            }
        }
    }

    // C# writes a value tuple of two or more elements as (a, b); past seven, the rest sit in a nested tuple.
    private static bool IsTuple(Type type) =>
        type.IsGenericType && type.Namespace == "System" && type.Name.StartsWith("ValueTuple`", StringComparison.Ordinal)
        && type.GetGenericArguments().Length >= 2;

    private static void AppendTuple(StringBuilder text, Type type)
    {
        text.Append('(');
        var first = true;
        for (var tuple = type; tuple is not null;)
        {
            var elements = tuple.GetGenericArguments();
            var rest = elements.Length == 8 ? elements[7] : null;
            var count = rest is null ? elements.Length : 7;
            for (var i = 0; i < count; i++)
            {
                if (!first)
                {
                    text.Append(", ");
                }
                Append(text, elements[i]);
                first = false;
            }
            tuple = rest;
        }
        text.Append(')');
    }

    // An enum has the type code of its underlying type, but no keyword.
    private static string? Keyword(Type type) => type.IsEnum ? null : Type.GetTypeCode(type) switch
    {
        TypeCode.Boolean => "bool",
        TypeCode.Byte => "byte",
        TypeCode.SByte => "sbyte",
        TypeCode.Char => "char",
        TypeCode.Decimal => "decimal",
        TypeCode.Double => "double",
        TypeCode.Single => "float",
        TypeCode.Int16 => "short",
        TypeCode.UInt16 => "ushort",
        TypeCode.Int32 => "int",
        TypeCode.UInt32 => "uint",
        TypeCode.Int64 => "long",
        TypeCode.UInt64 => "ulong",
        TypeCode.String => "string",
        _ when type == typeof(object) => "object",
        _ when type == typeof(nint) => "nint",
        _ when type == typeof(nuint) => "nuint",
        _ => null,
    };
}
