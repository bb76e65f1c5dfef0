namespace RateGuard.Clients;

/// <summary>What one limit does with a client before its bucket is decided.</summary>
internal enum ClientVerdict
{
    /// <summary>Decided by the bucket, at the policy given.</summary>
    Limited,

    /// <summary>Skips the bucket: an exempt key or an unlimited plan.</summary>
    Exempt,

    /// <summary>Refused with 403: a denied key.</summary>
    Denied,
}
