namespace RateGuard;

/// <summary>
/// Reads an entry of <c>TokenBucketOptions.ExemptNetworks</c> as the runtime does: an IPv4 or IPv6 address and a prefix
/// length in CIDR form (<c>10.0.0.0/8</c>, <c>fd00::/8</c>), or a single address, which is a /32 or a /128. Bits beyond
/// the prefix are allowed (they are cleared, as a router reads the range). The analyzer and the runtime both read
/// entries with it, so what builds is what starts; the generator targets netstandard2.0 and cannot call
/// <c>System.Net.IPNetwork</c>, so this is a small parser of its own, held to .NET's by a conformance test.
/// </summary>
/// <remarks>
/// It is stricter than <c>IPAddress.TryParse</c> where .NET reads an address otherwise than it looks: an IPv4 address
/// of fewer than four parts (<c>10.1</c> is 10.0.0.1), a part with a leading zero (octal: <c>010</c> is 8) or in hex,
/// brackets, a port or a zone index. In a list of callers who skip every limit, such an entry is a mistake.
/// </remarks>
internal static class NetworkRange
{
    /// <summary>What an entry must look like, for messages.</summary>
    public const string Form = "an address and a prefix length in CIDR form, such as 10.0.0.0/8 or fd00::/8, or as a single address";

    /// <summary>
    /// Parses <paramref name="text"/>: on success, the address as written (4 or 16 bytes) and the prefix length; on
    /// failure, <paramref name="problem"/> says what is wrong, in words that fit a message.
    /// </summary>
    public static bool TryParse(string? text, out byte[] address, out int prefix, out string? problem)
    {
        address = [];
        prefix = 0;
        if (string.IsNullOrEmpty(text))
        {
            problem = "it is empty";
            return false;
        }
        var value = text!;
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c))
            {
                problem = "it contains white space";
                return false;
            }
            if (c is '[' or ']' or '%')
            {
                problem = "a network is written without brackets, port or zone index";
                return false;
            }
        }

        var slash = value.IndexOf('/');
        var end = slash < 0 ? value.Length : slash;
        var isIPv6 = value.IndexOf(':', 0, end) >= 0;
        address = new byte[isIPv6 ? 16 : 4];
        var parsed = isIPv6 ? TryParseIPv6(value, end, address, out problem) : TryParseIPv4(value, 0, end, address, 0, out problem);
        if (!parsed)
        {
            address = [];
            return false;
        }

        var bits = address.Length * 8;
        prefix = bits;
        if (slash >= 0 && !TryParsePrefix(value, slash + 1, bits, out prefix, out problem))
        {
            address = [];
            return false;
        }
        problem = null;
        return true;
    }

    // Four decimal parts of 0 to 255, without leading zeros, from start to end.
    private static bool TryParseIPv4(string text, int start, int end, byte[] bytes, int offset, out string? problem)
    {
        problem = "it is not an IPv4 or IPv6 address";
        var parts = 0;
        var i = start;
        while (true)
        {
            var first = i;
            var part = 0;
            while (i < end && IsDigit(text[i]) && i - first < 4)
            {
                part = (part * 10) + (text[i] - '0');
                i++;
            }
            if (i == first || (i < end && text[i] != '.'))
            {
                return false;
            }
            if (i - first > 1 && text[first] == '0')
            {
                problem = $"the part {text.Substring(first, i - first)} has a leading zero, which .NET reads as an octal number";
                return false;
            }
            if (part > 255)
            {
                problem = "each part of an IPv4 address is 0 to 255";
                return false;
            }
            if (parts == 4)
            {
                problem = "an IPv4 address has four parts";
                return false;
            }
            bytes[offset + parts++] = (byte)part;
            if (i == end)
            {
                break;
            }
            i++; // the '.'
        }
        if (parts != 4)
        {
            problem = "an IPv4 address has four parts";
            return false;
        }
        problem = null;
        return true;
    }

    // Eight groups of one to four hex digits separated by ':', where one "::" stands for one or more groups of zeros
    // and the last two groups may be written as an IPv4 address (::ffff:1.2.3.4).
    private static bool TryParseIPv6(string text, int end, byte[] bytes, out string? problem)
    {
        problem = "it is not an IPv4 or IPv6 address";
        var groups = new int[8];
        var count = 0;
        var gap = -1;
        var i = 0;
        if (end >= 2 && text[0] == ':' && text[1] == ':')
        {
            gap = 0;
            i = 2;
        }
        while (i < end)
        {
            var first = i;
            while (i < end && IsHex(text[i]) && i - first < 5)
            {
                i++;
            }
            if (i < end && text[i] == '.')
            {
                // The last 32 bits as an IPv4 address: two groups, and nothing after them.
                if (count > 6)
                {
                    return false;
                }
                var tail = new byte[4];
                if (!TryParseIPv4(text, first, end, tail, 0, out problem))
                {
                    return false;
                }
                groups[count++] = (tail[0] << 8) | tail[1];
                groups[count++] = (tail[2] << 8) | tail[3];
                i = end;
                break;
            }
            if (i == first || i - first > 4 || count == 8)
            {
                return false;
            }
            groups[count++] = System.Convert.ToInt32(text.Substring(first, i - first), 16);
            if (i == end)
            {
                break;
            }
            if (text[i] != ':' || i + 1 == end)
            {
                return false;
            }
            i++;
            if (text[i] == ':')
            {
                if (gap >= 0)
                {
                    return false;
                }
                gap = count;
                i++;
            }
        }
        // Without "::" every group is written; with it, it stands for at least one.
        if (gap < 0 ? count != 8 : count > 7)
        {
            return false;
        }
        var zeros = 8 - count;
        for (var g = 0; g < count; g++)
        {
            var at = gap >= 0 && g >= gap ? g + zeros : g;
            bytes[at * 2] = (byte)(groups[g] >> 8);
            bytes[(at * 2) + 1] = (byte)groups[g];
        }
        problem = null;
        return true;
    }

    // Decimal digits only, as int.TryParse with NumberStyles.None reads them (leading zeros allowed), up to the
    // address's bit count.
    private static bool TryParsePrefix(string text, int start, int bits, out int prefix, out string? problem)
    {
        prefix = 0;
        if (start == text.Length)
        {
            problem = "the prefix length after / is missing";
            return false;
        }
        var tooLong = false;
        for (var i = start; i < text.Length; i++)
        {
            if (!IsDigit(text[i]))
            {
                problem = "the prefix length after / is not a whole number";
                return false;
            }
            prefix = (prefix * 10) + (text[i] - '0');
            tooLong |= prefix > bits;
            prefix = tooLong ? bits + 1 : prefix;
        }
        if (tooLong)
        {
            problem = $"the prefix length of an {(bits == 32 ? "IPv4" : "IPv6")} network is 0 to {bits}";
            return false;
        }
        problem = null;
        return true;
    }

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    private static bool IsHex(char c) => c is >= '0' and <= '9' or >= 'a' and <= 'f' or >= 'A' and <= 'F';
}
