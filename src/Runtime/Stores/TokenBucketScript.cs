using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>The embedded Lua token-bucket script, its SHA-1 for EVALSHA, and the parsing of its reply.</summary>
public static class TokenBucketScript
{
    private const string ResourceName = "RateGuard.token-bucket.lua";

    /// <summary>The script source.</summary>
    public static string Text { get; } = ReadText();

    /// <summary>The SHA-1 of <see cref="Text"/>, the handle EVALSHA runs it by.</summary>
    public static byte[] Sha1 { get; } = SHA1.HashData(Encoding.UTF8.GetBytes(Text));

    /// <summary><see cref="Sha1"/> as lower-case hex, as <c>SCRIPT LOAD</c> returns it.</summary>
    public static string Sha1Hex { get; } = Convert.ToHexStringLower(Sha1);

    internal static RateLimitDecision Parse(RedisResult result)
    {
        var items = (RedisResult[])result!;
        if (items.Length != 4)
        {
            throw new InvalidOperationException($"The token-bucket script returned {items.Length} values instead of 4.");
        }
        return RateLimitDecision.FromMicroseconds((long)items[0] == 1, (long)items[1], (long)items[2], (long)items[3]);
    }

    private static string ReadText()
    {
        using var stream = typeof(TokenBucketScript).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource '{ResourceName}' is missing from {typeof(TokenBucketScript).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
