using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using RateGuard.CodeFixes;
using RateGuard.Generator.Tests.Infrastructure;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>The fixes for a limit's own arguments: RG0003 (key), RG0006 (cost above capacity) and RG0019 (plan source).</summary>
public sealed class ArgumentCodeFixTests
{
    private static string Routes(string body) => $$"""
        using Microsoft.AspNetCore.Builder;
        using RateGuard;

        public static class Routes
        {
            public static void Map(WebApplication app)
            {
                {{body}}
            }
        }
        """;

    [Fact]
    public async Task RG0003_fix_writes_the_key_that_was_meant()
    {
        var source = Routes("""app.MapGet("/a", [TokenBucket(10, 5, Key = "IP")] () => "a");""");

        var fixedSources = await CodeFixHarness.ApplyAsync(new KeyCodeFixProvider(), "RG0003", "Use key \"ip\"", OutputKind.DynamicallyLinkedLibrary, source);

        Assert.Equal(source.Replace("Key = \"IP\"", "Key = \"ip\""), Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0003_offers_no_fix_for_a_key_held_in_a_constant()
    {
        var source = Routes("""app.MapGet("/a", [TokenBucket(10, 5, Key = Keys.Client)] () => "a");""") + "\npublic static class Keys { public const string Client = \"IP\"; }";

        Assert.Empty(await CodeFixHarness.TitlesAsync(new KeyCodeFixProvider(), "RG0003", OutputKind.DynamicallyLinkedLibrary, source));
    }

    [Fact]
    public async Task RG0003_fix_all_writes_each_key_its_own_suggestion_and_leaves_keys_without_one()
    {
        var source = Routes("""
            app.MapGet("/a", [TokenBucket(10, 5, Key = "IP")] () => "a");
                    app.MapGet("/b", () => "b").RequireTokenBucket(10, 5, key: "claims:sub").RequireAuthorization();
                    app.MapGet("/c", [TokenBucket(10, 5, Key = "cookie:session")] () => "c");
                    app.MapGet("/d", () => "d").WithMetadata(new TokenBucketAttribute(10, 5) { Key = "Header:X-Api-Key" });
            """);

        Assert.Equal(4, await CodeFixHarness.CountAsync("RG0003", OutputKind.DynamicallyLinkedLibrary, [source]));
        var fixedSources = await CodeFixHarness.FixAllAsync(new KeyCodeFixProvider(), "RG0003", "RG0003", FixAllScope.Document, OutputKind.DynamicallyLinkedLibrary, [source]);

        Assert.Equal(
            source.Replace("\"IP\"", "\"ip\"").Replace("\"claims:sub\"", "\"claim:sub\"").Replace("\"Header:X-Api-Key\"", "\"header:X-Api-Key\""),
            Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0006_fix_raises_the_capacity_to_the_cost()
    {
        var source = Routes("""app.MapGet("/a", [TokenBucket(capacity: 5, rate: 1, Cost = 6)] () => "a");""");

        var fixedSources = await CodeFixHarness.ApplyAsync(new CapacityCodeFixProvider(), "RG0006", "Raise capacity to 6", OutputKind.DynamicallyLinkedLibrary, source);

        Assert.Equal(source.Replace("capacity: 5", "capacity: 6"), Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0006_fix_all_raises_each_capacity_to_its_own_cost()
    {
        var source = Routes("""
            app.MapGet("/a", [TokenBucket(5, 1, Cost = 6)] () => "a");
                    app.MapGet("/b", () => "b").RequireTokenBucket(2 * 2, 1, cost: 10);
                    app.MapGet("/c", () => "c").WithMetadata(new TokenBucketAttribute(2, 1) { Cost = 3 });
                    app.MapGet("/d", [TokenBucket(8, 1, Cost = 8)] () => "d");
            """);

        Assert.Equal(3, await CodeFixHarness.CountAsync("RG0006", OutputKind.DynamicallyLinkedLibrary, [source]));
        var fixedSources = await CodeFixHarness.FixAllAsync(new CapacityCodeFixProvider(), "RG0006", "RG0006", FixAllScope.Document, OutputKind.DynamicallyLinkedLibrary, [source]);

        Assert.Equal(
            source.Replace("TokenBucket(5, 1, Cost = 6)", "TokenBucket(6, 1, Cost = 6)").Replace("RequireTokenBucket(2 * 2, 1, cost: 10)", "RequireTokenBucket(10, 1, cost: 10)").Replace("TokenBucketAttribute(2, 1) { Cost = 3 }", "TokenBucketAttribute(3, 1) { Cost = 3 }"),
            Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0019_fix_writes_the_plan_source_that_was_meant()
    {
        var source = Routes("""app.MapGet("/a", () => "a").RequireTokenBucket(10, 5, plan: "Header:X-Plan");""");

        var fixedSources = await CodeFixHarness.ApplyAsync(new KeyCodeFixProvider(), "RG0019", "Use plan source \"header:X-Plan\"", OutputKind.DynamicallyLinkedLibrary, source);

        Assert.Equal(source.Replace("\"Header:X-Plan\"", "\"header:X-Plan\""), Assert.Single(fixedSources));
    }

    [Fact]
    public async Task RG0019_offers_no_fix_for_a_key_that_is_no_plan_source()
    {
        var source = Routes("""app.MapGet("/a", [TokenBucket(10, 5, Plan = "user")] () => "a");""");

        Assert.Empty(await CodeFixHarness.TitlesAsync(new KeyCodeFixProvider(), "RG0019", OutputKind.DynamicallyLinkedLibrary, source));
    }
}
