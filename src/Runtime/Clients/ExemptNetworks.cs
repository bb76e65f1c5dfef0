using System.Net;

namespace RateGuard.Clients;

/// <summary>
/// The networks of <see cref="TokenBucketOptions.ExemptNetworks"/>, parsed: requests from them skip every limit.
/// </summary>
internal sealed class ExemptNetworks
{
    public static readonly ExemptNetworks None = new([]);

    private readonly IPNetwork[] _networks;

    private ExemptNetworks(IPNetwork[] networks)
    {
        _networks = networks;
    }

    public bool IsEmpty => _networks.Length == 0;

    /// <summary>Whether <paramref name="address"/> lies in one of the networks; an IPv4 client reached over IPv6 counts as IPv4.</summary>
    public bool Contains(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        foreach (var network in _networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Parses every entry; throws <see cref="FormatException"/> naming each malformed one.</summary>
    public static ExemptNetworks Parse(IReadOnlyList<string> entries)
    {
        if (entries.Count == 0)
        {
            return None;
        }
        var networks = new IPNetwork[entries.Count];
        List<string>? malformed = null;
        for (var i = 0; i < entries.Count; i++)
        {
            if (NetworkRange.TryParse(entries[i], out _, out _, out var problem))
            {
                TryParse(entries[i], out networks[i]);
            }
            else
            {
                (malformed ??= []).Add($"TokenBuckets:ExemptNetworks:{i} \"{entries[i]}\" ({problem})");
            }
        }
        if (malformed is not null)
        {
            throw new FormatException($"{string.Join(", ", malformed)} {(malformed.Count == 1 ? "is not a network" : "are not networks")}: {Rule}.");
        }
        return new ExemptNetworks(networks);
    }

    /// <summary>What an entry must look like, for messages.</summary>
    public const string Rule = "write each as " + NetworkRange.Form;

    /// <summary>
    /// An address and prefix length (<c>10.0.0.0/8</c>), or a single address (a /32 or /128), read as the analyzer reads
    /// it (<see cref="NetworkRange"/>). Bits beyond the prefix are cleared, as a router reads the range.
    /// </summary>
    public static bool TryParse(string? text, out IPNetwork network)
    {
        network = default;
        if (!NetworkRange.TryParse(text, out var bytes, out var prefix, out _))
        {
            return false;
        }
        network = new IPNetwork(Mask(new IPAddress(bytes), prefix), prefix);
        return true;
    }

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        for (var bit = prefix; bit < length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }
        return new IPAddress(bytes[..length]);
    }
}
