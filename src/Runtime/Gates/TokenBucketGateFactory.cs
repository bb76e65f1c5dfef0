namespace RateGuard.Gates;

/// <summary>Creates the gate of one spec for one bucket; called once per endpoint at startup.</summary>
/// <param name="bucket">The bucket name.</param>
/// <param name="services">The application's services, for key resolvers.</param>
public delegate TokenBucketGate TokenBucketGateFactory(string bucket, IServiceProvider services);
