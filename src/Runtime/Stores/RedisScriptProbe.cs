using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using RateGuard.Diagnostics;
using StackExchange.Redis;

namespace RateGuard.Stores;

/// <summary>
/// Runs RateGuard's scripts once on a probe key as soon as Redis is connected, so that a server that cannot run them
/// (an ACL user without a command they call, a renamed command, no EVALSHA) is named in the log at startup, with what
/// is missing, instead of turning every later decision into a failure mode with a vaguer reason.
/// </summary>
internal static partial class RedisScriptProbe
{
    private static readonly TokenBucketPolicy s_probe = new("probe", 1, TokenBucketPolicy.MaxRate);

    /// <summary>Probes; returns what is missing, or <see langword="null"/> when the scripts run.</summary>
    public static async Task<string?> CheckAsync(RedisTokenBucketStore store, bool heartbeat, ILogger logger, TimeSpan timeout)
    {
        if (store.Connection is not { IsConnected: true } connection)
        {
            return null; // checked when it connects
        }
        var endpoint = string.Join(",", connection.GetEndPoints().Select(e => e.ToString()));
        var database = connection.GetDatabase();
        var key = store.GetKey(s_probe, Guid.NewGuid().ToString("N"));
        try
        {
            // EVAL first, as after a SCRIPT FLUSH (a plain EVAL, as LuaScript sends it), then EVALSHA, as on every request.
            var args = TokenBucketScript.Arguments([new BucketCharge(s_probe, s_probe.Cost, 0)], store.UsesServerClock ? null : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000, 0);
            await database.ScriptEvaluateAsync(TokenBucketScript.Text, [key], args, CommandFlags.NoScriptCache).WaitAsync(timeout).ConfigureAwait(false);
            await database.ScriptEvaluateAsync(TokenBucketScript.Sha1, [key], args).WaitAsync(timeout).ConfigureAwait(false);
            if (heartbeat)
            {
                await database.ScriptEvaluateAsync(RedisTokenBucketStore.InstancesScript.Text, [$"{store.Prefix}:instances"], ["probe", 1, RedisValue.EmptyString, "leave"], CommandFlags.NoScriptCache).WaitAsync(timeout).ConfigureAwait(false);
            }
            Log.ScriptChecked(logger, endpoint);
            return null;
        }
        catch (RedisServerException e)
        {
            // Inside a script Redis says only that some command was refused: find out which, one at a time.
            var missing = await RefusedCommandsAsync(database, key, store.Prefix, heartbeat, timeout).ConfigureAwait(false) ?? Missing(e.Message, store.Prefix);
            Log.ScriptCannotRun(logger, endpoint, missing, e.Message);
            return missing;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return null; // not a permission problem; requests will say what it is
        }
    }

    // Each command the scripts call, alone in a script of its own, on the keys the scripts use.
    private static readonly (string Command, string Script, bool Heartbeat)[] s_commands =
    [
        ("TIME", "return redis.call('TIME')", false),
        ("GET", "return redis.call('GET', KEYS[1])", false),
        ("SET", "return redis.call('SET', KEYS[1], '0', 'PX', 1)", false),
        ("ZADD", "return redis.call('ZADD', KEYS[2], 0, 'probe')", true),
        ("ZREM", "return redis.call('ZREM', KEYS[2], 'probe')", true),
        ("ZREMRANGEBYSCORE", "return redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', 0)", true),
        ("ZCARD", "return redis.call('ZCARD', KEYS[2])", true),
        ("PEXPIRE", "return redis.call('PEXPIRE', KEYS[2], 1000)", true),
    ];

    private static async Task<string?> RefusedCommandsAsync(IDatabaseAsync database, RedisKey key, string prefix, bool heartbeat, TimeSpan timeout)
    {
        var refused = new List<string>();
        foreach (var (command, script, forHeartbeat) in s_commands)
        {
            if (forHeartbeat && !heartbeat)
            {
                continue;
            }
            try
            {
                await database.ScriptEvaluateAsync(script, [key, $"{prefix}:instances"]).WaitAsync(timeout).ConfigureAwait(false);
            }
            catch (RedisServerException e) when (e.Message.StartsWith("NOPERM", StringComparison.Ordinal) && e.Message.Contains("keys", StringComparison.OrdinalIgnoreCase))
            {
                return $"the user may not access the keys '{prefix}:*'";
            }
            catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal) || e.Message.Contains("'eval'", StringComparison.OrdinalIgnoreCase))
            {
                return null; // EVAL itself is refused: the original reply says so
            }
            catch (RedisServerException)
            {
                refused.Add(command);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                return null;
            }
        }
        return refused.Count switch
        {
            0 => null,
            1 => $"the user may not run the {refused[0]} command, which the scripts call",
            _ => $"the user may not run the {string.Join(", ", refused)} commands, which the scripts call",
        };
    }

    /// <summary>What a Redis error says is missing, in words an operator can act on.</summary>
    internal static string Missing(string reply, string prefix)
    {
        if (CommandPermission().Match(reply) is { Success: true } permission)
        {
            return $"the user may not run the {permission.Groups[1].Value.ToUpperInvariant()} command";
        }
        if (reply.Contains("No permissions to access a key", StringComparison.OrdinalIgnoreCase))
        {
            return $"the user may not access the keys '{prefix}:*'";
        }
        if (UnknownCommand().Match(reply) is { Success: true } unknown)
        {
            return $"the {unknown.Groups[1].Value.ToUpperInvariant()} command is renamed or disabled";
        }
        if (reply.Contains("Unknown Redis command called from script", StringComparison.OrdinalIgnoreCase))
        {
            return "a command the scripts call (GET, SET, TIME, ZADD, ZREM, ZREMRANGEBYSCORE, ZCARD or PEXPIRE) is renamed or disabled";
        }
        if (reply.StartsWith("NOAUTH", StringComparison.Ordinal) || reply.StartsWith("WRONGPASS", StringComparison.Ordinal))
        {
            return "the connection is not authenticated: set the password (and user) in TokenBuckets:Redis";
        }
        return "the script failed";
    }

    [GeneratedRegex(@"no permissions to run the '([A-Za-z|_-]+)' command", RegexOptions.IgnoreCase)]
    private static partial Regex CommandPermission();

    [GeneratedRegex(@"unknown command '([A-Za-z|_-]+)'", RegexOptions.IgnoreCase)]
    private static partial Regex UnknownCommand();
}
