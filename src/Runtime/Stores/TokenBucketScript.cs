using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>The embedded Lua token-bucket script, its SHA-1 for EVALSHA, and the reading of its replies.</summary>
public static class TokenBucketScript
{
    private static readonly RedisValue RequestsForm = "rg2";
    private static readonly RedisValue ServerClock = "";

    internal static LuaScript Script { get; } = new("RateGuard.token-bucket.lua");

    /// <summary>The script source.</summary>
    public static string Text => Script.Text;

    /// <summary>The SHA-1 of <see cref="Text"/>, the handle EVALSHA runs it by.</summary>
    public static byte[] Sha1 => Script.Sha1;

    /// <summary><see cref="Sha1"/> as lower-case hex, as <c>SCRIPT LOAD</c> returns it.</summary>
    public static string Sha1Hex { get; } = Convert.ToHexStringLower(Script.Sha1);

    /// <summary>
    /// The arguments of one request for one bucket, in the script's requests form.
    /// </summary>
    /// <param name="policy">The bucket and the request's cost (<paramref name="chargeOnly"/>: none).</param>
    /// <param name="clientNow">The client clock's time in µs, or <see langword="null"/> for the server's.</param>
    /// <param name="deadline">The server time in µs after which the request must take nothing; 0 for none.</param>
    /// <param name="debt">Tokens admitted elsewhere and owed to the bucket.</param>
    /// <param name="chargeOnly">Charge only <paramref name="debt"/>, deciding nothing.</param>
    internal static RedisValue[] Arguments(TokenBucketPolicy policy, long? clientNow, long deadline, int debt, bool chargeOnly = false) =>
    [
        RequestsForm, clientNow is { } now ? now : ServerClock, 1,
        deadline, 1, policy.IntervalMicroseconds, policy.Capacity, chargeOnly ? 0 : policy.Cost, debt,
    ];

    /// <summary>Reads the reply to one request for one bucket.</summary>
    internal static ScriptReply ParseOne(RedisResult result)
    {
        var items = (RedisResult[])result!;
        if (items.Length != 5)
        {
            throw new InvalidOperationException($"The token-bucket script returned {items.Length} values instead of 5.");
        }
        var status = (int)items[1];
        var decision = RateLimitDecision.FromMicroseconds(status == 1, (long)items[2], (long)items[3], (long)items[4]);
        return new ScriptReply((long)items[0], status == -1 ? ScriptStatus.Late : ScriptStatus.Decided, decision);
    }
}

/// <summary>Whether the script decided, or found the request's deadline passed and did nothing.</summary>
internal enum ScriptStatus
{
    Decided,
    Late,
}

/// <summary>One request's outcome, with the server's time when the script ran (µs since the Unix epoch).</summary>
internal readonly record struct ScriptReply(long ServerNow, ScriptStatus Status, RateLimitDecision Decision);
