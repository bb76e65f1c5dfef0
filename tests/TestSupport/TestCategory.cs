namespace RateGuard.TestSupport;

/// <summary>
/// Trait values that sort tests by what they cost. <c>dotnet test</c> on one project leaves out the
/// <see cref="Slow"/> ones (see <c>tests/quick.runsettings</c>); <c>./test.sh</c> runs every test.
/// </summary>
public static class TestCategory
{
    /// <summary>The trait's name: <c>[Trait(TestCategory.Name, TestCategory.Slow)]</c>.</summary>
    public const string Name = "Category";

    /// <summary>Tests that build, publish or start whole processes: samples, packages, Native AOT, a browser, a flood.</summary>
    public const string Slow = "Slow";
}
