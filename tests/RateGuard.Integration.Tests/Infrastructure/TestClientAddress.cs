using RateGuard.Testing;

namespace RateGuard.Integration.Tests.Infrastructure;

/// <summary>
/// The header by which a test request names its client address: the test server has none, and the test apps give each
/// request the one it names, or 127.0.0.1, with <see cref="TokenBucketTestServiceCollectionExtensions.UseTestClientAddresses"/>.
/// </summary>
public static class TestClientAddress
{
    public const string Header = TokenBucketTestServiceCollectionExtensions.ClientAddressHeader;
}
