using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>The embedded Lua token-bucket script, its SHA-1 for EVALSHA, and the reading of its replies.</summary>
public static class TokenBucketScript
{
    private static readonly RedisValue s_requestsForm = "rg2";
    private static readonly RedisValue s_serverClock = "";

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
        var args = Arguments(1, charges.Length, clientNow);
        WriteRequest(args, FirstRequest, deadline, charges);
        return args;
    }

    /// <summary>Where the first request's arguments start in <see cref="Arguments(int, int, long?)"/>.</summary>
    internal const int FirstRequest = 3;

    /// <summary>
    /// The arguments of <paramref name="requests"/> requests drawing on <paramref name="buckets"/> buckets in all, with
    /// the call's part filled in; each request is then written with <see cref="WriteRequest"/> from <see cref="FirstRequest"/> on.
    /// </summary>
    internal static RedisValue[] Arguments(int requests, int buckets, long? clientNow)
    {
        var args = new RedisValue[FirstRequest + 2 * requests + 4 * buckets];
        args[0] = s_requestsForm;
        args[1] = clientNow is { } now ? now : s_serverClock;
        args[2] = requests;
        return args;
    }

    /// <summary>Writes one request's arguments at <paramref name="at"/>, and returns where the next one starts.</summary>
    internal static int WriteRequest(RedisValue[] args, int at, long deadline, ReadOnlySpan<BucketCharge> charges)
    {
        args[at++] = deadline;
        var count = at++;
        var overdraw = false;
        foreach (var charge in charges)
        {
            args[at++] = charge.Policy.IntervalMicroseconds;
            args[at++] = charge.Policy.Capacity;
            // A shadow bucket's cost goes negated, a request whose debts may overdraw its bucket count negated.
            args[at++] = charge.Shadow ? -charge.Cost : charge.Cost;
            args[at++] = charge.Debt;
            overdraw |= charge.Overdraw;
        }
        args[count] = overdraw ? -charges.Length : charges.Length;
        return at;
    }

    /// <summary>How many values of a reply one request of <paramref name="buckets"/> buckets takes.</summary>
    internal static int ReplyLength(int buckets) => 1 + 3 * buckets;

    /// <summary>Reads one request's part of a reply into one decision per bucket.</summary>
    internal static ScriptReply Read(ScriptResult result, Span<RateLimitDecision> decisions)
    {
        var (items, offset) = result;
        if (items.Length < offset + ReplyLength(decisions.Length))
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

/// <summary>
/// One bucket of a request to the script: what the request costs it (0 for nothing), and what it owes it (negative to
/// give back).
/// </summary>
/// <param name="Policy">The bucket.</param>
/// <param name="Cost">What the request must find in the bucket, and takes from it if admitted.</param>
/// <param name="Debt">Tokens charged whatever the decision (negative to give back).</param>
/// <param name="Shadow">Whether the bucket is in shadow mode: when it does not hold its cost, the request goes on without it.</param>
/// <param name="Overdraw">
/// Whether the debt may take the bucket below empty (a cost charged after the fact). The script reads it per request: one
/// bucket that may overdraw lets every debt of its request do so.
/// </param>
internal readonly record struct BucketCharge(TokenBucketPolicy Policy, int Cost, int Debt, bool Shadow = false, bool Overdraw = false);

/// <summary>Whether the script decided, or found the request's deadline passed and did nothing.</summary>
internal enum ScriptStatus
{
    Decided,
    Late,
}

/// <summary>One request's outcome, with the server's time when the script ran (µs since the Unix epoch).</summary>
internal readonly record struct ScriptReply(long ServerNow, ScriptStatus Status);
