namespace RateGuard.Integration.Tests.Infrastructure;

/// <summary>Where the app under test keeps its buckets.</summary>
public enum Store
{
    InMemory,
    Redis,
}
