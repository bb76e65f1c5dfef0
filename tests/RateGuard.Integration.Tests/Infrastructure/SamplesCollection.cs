namespace RateGuard.Integration.Tests.Infrastructure;

/// <summary>
/// The sample suites, one after another: the seed's /ping refills a token every 200 ms, so its burst assertions need
/// the machine's attention for a few milliseconds at a time, not a share of it.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SamplesCollection
{
    public const string Name = "samples";
}
