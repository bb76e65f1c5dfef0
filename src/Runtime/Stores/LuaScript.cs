using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>An embedded Lua script, run by its SHA-1 with EVALSHA and reloaded with one EVAL when Redis lost it.</summary>
internal sealed class LuaScript
{
    public LuaScript(string resourceName)
    {
        using var stream = typeof(LuaScript).Assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"The embedded resource '{resourceName}' is missing from {typeof(LuaScript).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        Text = reader.ReadToEnd();
        Sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(Text));
    }

    public string Text { get; }

    public byte[] Sha1 { get; }

    /// <summary>
    /// Runs the script. When Redis does not know it (first use, <c>SCRIPT FLUSH</c>, a restart or a failover) the
    /// <c>NOSCRIPT</c> reply is answered by running the text once with EVAL, which also loads it.
    /// </summary>
    /// <remarks>
    /// The text goes out as a plain EVAL (<see cref="CommandFlags.NoScriptCache"/>). Without that flag the client
    /// sends it as EVALSHA whenever it believes the script is loaded, or as SCRIPT LOAD followed by EVALSHA, and a
    /// SCRIPT FLUSH landing between the two (or repeated while other callers reload it) fails the decision with a
    /// second NOSCRIPT. EVAL carries the text itself, so no flush can make it fail.
    /// </remarks>
    public async Task<RedisResult> EvaluateAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return await database.ScriptEvaluateAsync(Sha1, keys, args).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await database.ScriptEvaluateAsync(Text, keys, args, CommandFlags.NoScriptCache).ConfigureAwait(false);
        }
    }
}
