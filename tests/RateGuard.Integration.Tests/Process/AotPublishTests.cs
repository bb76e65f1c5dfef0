using RateGuard.Integration.Tests.Infrastructure;
using RateGuard.TestSupport;
using Xunit.Abstractions;

namespace RateGuard.Integration.Tests.Process;

/// <summary>The minimal-API sample published with Native AOT, checked by scripts/aot-check.sh.</summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
[Collection(TimingCollection.Name)]
public sealed class AotPublishTests(ITestOutputHelper output)
{
    [Fact]
    public void The_native_aot_sample_publishes_without_trim_warnings_and_serves_the_seed_limit_in_memory_and_over_redis()
    {
        var script = Path.Combine(SampleBuild.RepositoryRoot(), "scripts", "aot-check.sh");

        var (exitCode, text) = SampleBuild.Run("bash", [script], TimeSpan.FromMinutes(10));

        output.WriteLine(text);
        Assert.True(exitCode == 0, text);
        Assert.Contains("aot: ok", text);
    }
}
