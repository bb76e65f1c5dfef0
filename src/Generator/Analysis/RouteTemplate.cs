using System;
using System.Collections.Generic;

namespace RateGuard.Generator.Analysis;

/// <summary>Reads the parameter names of an ASP.NET Core route template.</summary>
internal static class RouteTemplate
{
    /// <summary>The names of <paramref name="template"/>'s parameters: <c>{id:int}</c>, <c>{*path}</c>, <c>{page?}</c> and <c>{x=1}</c> give id, path, page, x.</summary>
    public static List<string> Parameters(string? template)
    {
        var names = new List<string>();
        if (template is null)
        {
            return names;
        }
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] != '{')
            {
                continue;
            }
            if (i + 1 < template.Length && template[i + 1] == '{')
            {
                i++; // an escaped brace
                continue;
            }
            var end = template.IndexOf('}', i + 1);
            if (end < 0)
            {
                break;
            }
            var name = template.Substring(i + 1, end - i - 1).TrimStart('*');
            var stop = name.IndexOfAny([':', '=', '?']);
            names.Add(stop < 0 ? name : name.Substring(0, stop));
            i = end;
        }
        return names;
    }

    /// <summary>Joins a route group's prefix and a pattern: always concatenated, whatever slashes they carry.</summary>
    public static string CombineGroup(string prefix, string pattern) =>
        prefix.Length == 0 ? pattern : prefix.TrimEnd('/') + "/" + pattern.TrimStart('/');

    /// <summary>Joins a controller's route prefix and an action template as MVC does: an action template that starts with <c>/</c> or <c>~/</c> replaces the prefix.</summary>
    public static string Combine(string? prefix, string? template)
    {
        if (template is not null && (template.StartsWith("/", StringComparison.Ordinal) || template.StartsWith("~/", StringComparison.Ordinal)))
        {
            return template;
        }
        if (string.IsNullOrEmpty(prefix))
        {
            return template ?? "";
        }
        if (string.IsNullOrEmpty(template))
        {
            return prefix!;
        }
        return prefix!.TrimEnd('/') + "/" + template;
    }

    public static bool Contains(List<string> parameters, string name)
    {
        foreach (var parameter in parameters)
        {
            if (string.Equals(parameter, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}
