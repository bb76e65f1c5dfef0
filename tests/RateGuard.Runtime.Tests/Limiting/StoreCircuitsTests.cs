using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RateGuard.Limiting;
using RateGuard.Limiting.Circuits;

namespace RateGuard.Runtime.Tests.Limiting;

public sealed class StoreCircuitsTests
{
    private static readonly IPEndPoint s_failed = new(IPAddress.Loopback, 7001);
    private static readonly IPEndPoint s_healthy = new(IPAddress.Loopback, 7002);

    [Fact]
    public void A_server_that_owns_nothing_any_more_and_a_slot_that_has_an_owner_again_leave_no_open_circuit_behind()
    {
        var time = new FakeTimeProvider();
        var circuits = new StoreCircuits("redis", threshold: 1, TimeSpan.FromSeconds(1), time, NullLogger.Instance);
        circuits.Of(s_failed, 10408).Breaker.OnFailure(time.GetTimestamp());
        circuits.Of(null, 7365).Breaker.OnFailure(time.GetTimestamp());
        circuits.Of(s_healthy, 100);
        Assert.Equal(CircuitState.Open, circuits.Worst);

        // A failover: the failed primary's slots went to its replica, and the slot without a primary has one again.
        circuits.Retire(owns: server => !server.Equals(s_failed), owned: _ => true);

        Assert.Equal(CircuitState.Closed, circuits.Worst);
        Assert.Equal([("127.0.0.1:7002", CircuitState.Closed)], circuits.States.ToArray());
    }
}
