namespace RateGuard.Limiting;

/// <summary>The state of the store's circuit.</summary>
public enum CircuitState
{
    /// <summary>The store is called.</summary>
    Closed = 0,

    /// <summary>The store failed repeatedly and is not called until the break ends.</summary>
    Open = 1,

    /// <summary>The break ended; one request is probing the store.</summary>
    HalfOpen = 2,
}
