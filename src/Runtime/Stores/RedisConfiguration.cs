using System.Net;
using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>
/// Reads <c>TokenBuckets:Redis</c> strictly. StackExchange.Redis accepts almost any text and then retries an endpoint
/// that can never work, which would leave every limit on its failure mode for the life of the app; a string that names
/// no usable endpoint, or has a part that is neither an endpoint nor an option, is refused at startup instead.
/// </summary>
internal static class RedisConfiguration
{
    /// <summary>What is wrong with <paramref name="configuration"/>, or <see langword="null"/> when it can be used.</summary>
    public static string? Problem(string configuration)
    {
        var endpoints = 0;
        foreach (var raw in configuration.Split(','))
        {
            var part = raw.Trim();
            if (part.Length == 0)
            {
                continue;
            }
            var equals = part.IndexOf('=');
            if (equals >= 0)
            {
                if (equals == 0)
                {
                    return $"'{part}' is neither an endpoint (host:port) nor an option (name=value).";
                }
                continue; // options are checked by StackExchange.Redis below
            }
            if (Parse(part) is not { } endpoint || !IsUsable(endpoint))
            {
                return $"'{part}' is not an endpoint: write host:port, with a host name or an IP address and a port from 1 to 65535.";
            }
            endpoints++;
        }
        if (endpoints == 0)
        {
            return "it names no endpoint; write at least one host:port, such as localhost:6379.";
        }
        try
        {
            ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
        return null;
    }

    private static EndPoint? Parse(string part)
    {
        try
        {
            return EndPointCollection.TryParse(part);
        }
        catch (ArgumentException)
        {
            return null; // a port out of range, for one
        }
    }

    private static bool IsUsable(EndPoint endpoint) => endpoint switch
    {
        IPEndPoint ip => ip.Port is >= 0 and <= 65535,
        DnsEndPoint dns => dns.Port is >= 0 and <= 65535 && Uri.CheckHostName(dns.Host) == UriHostNameType.Dns,
        _ => false,
    };
}
