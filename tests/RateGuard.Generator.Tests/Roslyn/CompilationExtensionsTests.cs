using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RateGuard.Generator.Roslyn;
using RateGuard.Generator.Tests.Infrastructure;

namespace RateGuard.Generator.Tests.Roslyn;

public sealed class CompilationExtensionsTests
{
    [Fact]
    public void A_public_type_is_found_beside_an_internal_one_of_the_same_name_where_GetTypeByMetadataName_finds_none()
    {
        var compilation = Compile("App", "class C { }", Library("Public", "public"), Library("Polyfill", "internal"));

#pragma warning disable RS0030 // the banned call, to show what it misses
        Assert.Null(compilation.GetTypeByMetadataName("Shared.T"));
#pragma warning restore RS0030
        Assert.Equal("Public", compilation.GetBestTypeByMetadataName("Shared.T")?.ContainingAssembly.Name);
    }

    [Fact]
    public void Two_visible_definitions_are_ambiguous_and_the_compilations_own_wins_over_both()
    {
        var references = new[] { Library("First", "public"), Library("Second", "public") };

        Assert.Null(Compile("App", "class C { }", references).GetBestTypeByMetadataName("Shared.T"));
        Assert.Equal("App", Compile("App", "namespace Shared { class T { } }", references).GetBestTypeByMetadataName("Shared.T")?.ContainingAssembly.Name);
    }

    [Fact]
    public void An_internal_type_is_visible_to_an_assembly_it_gives_access_to()
    {
        var friend = Library("Friend", "internal", """[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("App")]""");

        Assert.Equal("Friend", Compile("App", "class C { }", friend).GetBestTypeByMetadataName("Shared.T")?.ContainingAssembly.Name);
        Assert.Null(Compile("Other", "class C { }", friend).GetBestTypeByMetadataName("Shared.T"));
    }

    private static MetadataReference Library(string name, string accessibility, string prelude = "") =>
        Compile(name, $"{prelude}\nnamespace Shared {{ {accessibility} sealed class T {{ }} }}").ToMetadataReference();

    private static CSharpCompilation Compile(string name, string source, params MetadataReference[] references) =>
        CSharpCompilation.Create(name, [CSharpSyntaxTree.ParseText(source)], [.. GeneratorHarness.References, .. references],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
}
