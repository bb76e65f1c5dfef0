using System;

namespace RateGuard;

/// <summary>
/// Opts an endpoint out of the token buckets it would otherwise inherit, for example from its controller or its route
/// group. Token buckets declared after it, on the action itself, still apply.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class DisableTokenBucketAttribute : Attribute
{
}
