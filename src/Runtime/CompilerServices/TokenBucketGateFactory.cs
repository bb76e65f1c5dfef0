using System.ComponentModel;

namespace RateGuard.CompilerServices;

/// <summary>Creates the gate of one spec for one bucket; called once per endpoint at startup.</summary>
/// <param name="bucket">The bucket name.</param>
/// <param name="services">The application's services, for key resolvers.</param>
/// <remarks>
/// Part of the contract that generated code calls (see <see cref="TokenBucketGateRegistry"/>): not for application
/// code, and kept compatible from one version to the next.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate TokenBucketGate TokenBucketGateFactory(string bucket, IServiceProvider services);
