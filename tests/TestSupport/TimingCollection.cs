namespace RateGuard.TestSupport;

/// <summary>Tests that assert latency bounds run alone, so what they measure is the code and not the test runner's load.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingCollection
{
    public const string Name = "timing";
}
