using System.ComponentModel;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace RateGuard.CompilerServices;

/// <summary>
/// Reads each built-in kind of key from a request. Generated gates call these directly with their arguments as
/// constants; the fallback gate calls the same methods, so both paths read keys identically.
/// </summary>
/// <remarks>
/// <para>Every reader returns <see langword="null"/> when the request has no value, and never an empty string.</para>
/// <para>
/// Part of the contract that generated code calls (see <see cref="TokenBucketGateRegistry"/>): not for application
/// code, and kept compatible from one version to the next.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TokenBucketKeyReaders
{
    /// <summary>The single key of a <c>global</c> bucket.</summary>
    public const string GlobalKey = "global";

    /// <summary>
    /// The remote address. An IPv4-mapped IPv6 address reads as the IPv4 address; other IPv6 addresses are grouped by
    /// their first <paramref name="ipv6PrefixLength"/> bits (as <c>2001:db8:1:2::/64</c>), so a host cannot escape its
    /// bucket by rotating through the addresses of its own network.
    /// </summary>
    public static string? RemoteIp(HttpContext context, int ipv6PrefixLength)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null)
        {
            return null;
        }
        // The server keeps one IPAddress per connection, so the key is formatted once per connection, not once per
        // request; the entry goes when the connection's address does.
        if (s_formatted.TryGetValue(address, out var known) && known.PrefixLength == ipv6PrefixLength)
        {
            return known.Text;
        }
        var formatted = new FormattedAddress(ipv6PrefixLength, Format(address, ipv6PrefixLength));
        s_formatted.AddOrUpdate(address, formatted);
        return formatted.Text;
    }

    private static readonly ConditionalWeakTable<IPAddress, FormattedAddress> s_formatted = new();

    private sealed record FormattedAddress(int PrefixLength, string Text);

    private static string Format(IPAddress address, int ipv6PrefixLength)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || ipv6PrefixLength >= 128)
        {
            return address.ToString();
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        var keep = Math.Max(0, ipv6PrefixLength);
        for (var bit = keep; bit < 128; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }
        return string.Create(CultureInfo.InvariantCulture, $"{new IPAddress(bytes)}/{keep}");
    }

    /// <summary>The authenticated user's id: the name-identifier claim, else <c>sub</c>, else the identity's name.</summary>
    public static string? User(HttpContext context)
    {
        var user = context.User;
        if (user.Identity is not { IsAuthenticated: true } identity)
        {
            return null;
        }
        return NullIfEmpty(user.FindFirst(ClaimTypes.NameIdentifier)?.Value)
            ?? NullIfEmpty(user.FindFirst("sub")?.Value)
            ?? NullIfEmpty(identity.Name);
    }

    /// <summary>The first value of header <paramref name="name"/>.</summary>
    public static string? Header(HttpContext context, string name) =>
        context.Request.Headers.TryGetValue(name, out var values) && values.Count > 0 ? NullIfEmpty(values[0]) : null;

    /// <summary>The first value of query parameter <paramref name="name"/>.</summary>
    public static string? Query(HttpContext context, string name) =>
        context.Request.Query.TryGetValue(name, out var values) && values.Count > 0 ? NullIfEmpty(values[0]) : null;

    /// <summary>Route value <paramref name="name"/>.</summary>
    public static string? Route(HttpContext context, string name) =>
        context.Request.RouteValues.TryGetValue(name, out var value)
            ? NullIfEmpty(value as string ?? Convert.ToString(value, CultureInfo.InvariantCulture))
            : null;

    /// <summary>The first claim of type <paramref name="type"/> of the current user.</summary>
    public static string? Claim(HttpContext context, string type) => NullIfEmpty(context.User.FindFirst(type)?.Value);

    /// <summary>What a custom resolver returned, with empty read as missing.</summary>
    public static string? Resolved(string? key) => NullIfEmpty(key);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
