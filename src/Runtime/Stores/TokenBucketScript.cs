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

    /// <summary>The arguments of one request, in the script's requests form.</summary>
    /// <param name="charges">Each bucket of the request: its policy, what the request costs it, and what it owes it.</param>
    /// <param name="clientNow">The client clock's time in µs, or <see langword="null"/> for the server's.</param>
    /// <param name="deadline">The server time in µs after which the request must take nothing; 0 for none.</param>
    internal static RedisValue[] Arguments(ReadOnlySpan<BucketCharge> charges, long? clientNow, long deadline)
    {
        var args = new RedisValue[5 + 4 * charges.Length];
        args[0] = RequestsForm;
        args[1] = clientNow is { } now ? now : ServerClock;
        args[2] = 1;
        args[3] = deadline;
        args[4] = charges.Length;
        for (var i = 0; i < charges.Length; i++)
        {
            var charge = charges[i];
            args[5 + 4 * i] = charge.Policy.IntervalMicroseconds;
            args[6 + 4 * i] = charge.Policy.Capacity;
            args[7 + 4 * i] = charge.Cost;
            args[8 + 4 * i] = charge.Debt;
        }
        return args;
    }

    /// <summary>Reads one request's part of a reply into one decision per bucket.</summary>
    internal static ScriptReply Read(ScriptResult result, Span<RateLimitDecision> decisions)
    {
        var (items, offset) = result;
        if (items.Length < offset + 1 + 3 * decisions.Length)
        {
            throw new InvalidOperationException($"The token-bucket script returned {items.Length} values, too few for a request of {decisions.Length} buckets at value {offset}.");
        }
        var status = (int)items[offset];
        for (var i = 0; i < decisions.Length; i++)
        {
            var at = offset + 1 + 3 * i;
            decisions[i] = RateLimitDecision.FromMicroseconds(status == 1, (long)items[at], (long)items[at + 1], (long)items[at + 2]);
        }
        return new ScriptReply((long)items[0], status == -1 ? ScriptStatus.Late : ScriptStatus.Decided);
    }
}

/// <summary>One bucket of a request to the script: what the request costs it (0 for nothing), and what it owes it (negative to give back).</summary>
internal readonly record struct BucketCharge(TokenBucketPolicy Policy, int Cost, int Debt);

/// <summary>Whether the script decided, or found the request's deadline passed and did nothing.</summary>
internal enum ScriptStatus
{
    Decided,
    Late,
}

/// <summary>One request's outcome, with the server's time when the script ran (µs since the Unix epoch).</summary>
internal readonly record struct ScriptReply(long ServerNow, ScriptStatus Status);
