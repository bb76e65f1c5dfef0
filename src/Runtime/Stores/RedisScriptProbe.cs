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
            // EVAL first, as after a SCRIPT FLUSH, then EVALSHA, as on every request.
            var args = TokenBucketScript.Arguments(s_probe, store.UsesServerClock ? null : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000, 0, 0);
            await database.ScriptEvaluateAsync(TokenBucketScript.Text, [key], args).WaitAsync(timeout).ConfigureAwait(false);
            await database.ScriptEvaluateAsync(TokenBucketScript.Sha1, [key], args).WaitAsync(timeout).ConfigureAwait(false);
            if (heartbeat)
            {
                await database.ScriptEvaluateAsync(RedisTokenBucketStore.InstancesScript.Text, [$"{store.Prefix}:instances"], ["probe", 1, RedisValue.EmptyString, "leave"]).WaitAsync(timeout).ConfigureAwait(false);
            }
            Log.ScriptChecked(logger, endpoint);
            return null;
        }
        catch (RedisServerException e)
        {
            var missing = Missing(e.Message, store.Prefix);
            Log.ScriptCannotRun(logger, endpoint, missing, e.Message);
            return missing;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return null; // not a permission problem; requests will say what it is
        }
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
