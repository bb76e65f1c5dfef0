using System.Net;
using System.Net.Sockets;
using RateGuard.Generator.Parsing;

namespace RateGuard.Generator.Tests.Analyzers;

/// <summary>
/// The analyzer's reading of an exempt network (RG0021) against .NET's, which the runtime uses: <c>IPNetwork.TryParse</c>
/// for a range, <c>IPAddress.TryParse</c> for a single address. They must accept the same networks, as the same range,
/// and refuse the same text, except where .NET reads text otherwise than it looks, which the analyzer refuses.
/// </summary>
public sealed class NetworkRangeTests
{
    [Theory]
    [InlineData("10.0.0.0/8")]
    [InlineData("10.1.2.3/8")]
    [InlineData("192.168.1.0/24")]
    [InlineData("0.0.0.0/0")]
    [InlineData("255.255.255.255/32")]
    [InlineData("127.0.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("10.0.0.0/08")]
    [InlineData("10.0.0.0/00032")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("::/0")]
    [InlineData("fd00::/8")]
    [InlineData("FD00::/8")]
    [InlineData("fd00:0:0:0:0:0:0:0/8")]
    [InlineData("2001:db8::/32")]
    [InlineData("2001:DB8:0:0:8:800:200C:417A")]
    [InlineData("1:2:3:4:5:6:7:8/64")]
    [InlineData("1:2:3:4:5:6:7::")]
    [InlineData("::1:2:3:4:5:6:7")]
    [InlineData("1::")]
    [InlineData("1::8")]
    [InlineData("0001:02:003:0004::/16")]
    [InlineData("::ffff:1.2.3.4")]
    [InlineData("::ffff:1.2.3.4/96")]
    [InlineData("::1.2.3.4")]
    [InlineData("1:2:3:4:5:6:1.2.3.4")]
    [InlineData("64:ff9b::192.0.2.33/128")]
    public void A_network_both_accept_is_the_same_range(string text)
    {
        Assert.True(NetworkRange.TryParse(text, out var address, out var prefix, out var problem), problem);

        Assert.True(DotNet(text, out var expected), $"{text} is refused by .NET");
        Assert.Equal(expected, IPNetwork.Parse(new IPAddress(address) + "/" + prefix));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/4294967328")]
    [InlineData("fd00::/129")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/+8")]
    [InlineData("10.0.0.0/ 8")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/1e1")]
    [InlineData("1.2.3.4/32/1")]
    [InlineData("/8")]
    [InlineData("")]
    [InlineData(" 10.0.0.0/8")]
    [InlineData("10.0.0.0/8 ")]
    [InlineData("256.0.0.0/8")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1.2.3.")]
    [InlineData("1..2.3")]
    [InlineData("1.2.3.4a")]
    [InlineData("1.2.3.09")]
    [InlineData("localhost")]
    [InlineData("1::2::3")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("1:2:3:4:5:6:7")]
    [InlineData("1:2:3:4:5:6:7:1.2.3.4")]
    [InlineData("0::0:0:0:0:0:0:0")]
    [InlineData("12345::")]
    [InlineData("gg::")]
    [InlineData(":1")]
    [InlineData("1:")]
    [InlineData(":::")]
    [InlineData("1:::2")]
    [InlineData("::ffff:1.2.3")]
    [InlineData("::ffff:1.2.3.4.5")]
    [InlineData("::ffff:010.1.2.3")]
    [InlineData("::1.2.3.4:5")]
    [InlineData("1.2.3.4%1")]
    [InlineData("\u0661.\u0662.\u0663.\u0664")]
    public void A_network_dotnet_refuses_is_refused(string text)
    {
        Assert.False(DotNet(text, out _), $"{text} is accepted by .NET");

        Assert.False(NetworkRange.TryParse(text, out _, out _, out var problem));
        Assert.NotNull(problem);
    }

    [Theory]
    [InlineData("10.1/16")]
    [InlineData("10/8")]
    [InlineData("1.2.3")]
    [InlineData("010.0.0.0/8")]
    [InlineData("1.2.3.04")]
    [InlineData("0x0a.0.0.0/8")]
    [InlineData("[::1]")]
    [InlineData("[::1]:80")]
    [InlineData("fe80::1%5")]
    public void Text_dotnet_reads_otherwise_than_it_looks_is_refused(string text)
    {
        Assert.True(DotNet(text, out _), $"{text} is refused by .NET");

        Assert.False(NetworkRange.TryParse(text, out _, out _, out var problem));
        Assert.NotNull(problem);
    }

    // The runtime's reading: a range as IPNetwork.TryParse reads it, and a single address as a /32 or /128.
    private static bool DotNet(string text, out IPNetwork network)
    {
        if (text.Contains('/'))
        {
            return IPNetwork.TryParse(text, out network);
        }
        network = default;
        if (!IPAddress.TryParse(text, out var address))
        {
            return false;
        }
        network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        return true;
    }
}
