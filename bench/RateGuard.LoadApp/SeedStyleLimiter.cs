using StackExchange.Redis;

namespace RateGuard.LoadApp;

/// <summary>
/// The approach this project is measured against, as the Redis + Lua token bucket behind a Gin middleware does it:
/// the script text sent with EVAL on every request, a hash of tokens and timestamp per client, the client's clock in
/// whole seconds, and a one-hour expiry. Written here for comparison only; nothing in the product uses it.
/// </summary>
public sealed class SeedStyleLimiter(IConnectionMultiplexer redis, int capacity, double rate, long skewSeconds)
{
    private const string Script = """
        local key = KEYS[1]
        local capacity = tonumber(ARGV[1])
        local rate = tonumber(ARGV[2])
        local now = tonumber(ARGV[3])
        local state = redis.call('HMGET', key, 'tokens', 'timestamp')
        local tokens = tonumber(state[1])
        local last = tonumber(state[2])
        if tokens == nil then
          tokens = capacity
          last = now
        end
        tokens = math.min(capacity, tokens + math.max(0, now - last) * rate)
        local allowed = 0
        if tokens >= 1 then
          tokens = tokens - 1
          allowed = 1
        end
        redis.call('HMSET', key, 'tokens', tokens, 'timestamp', now)
        redis.call('EXPIRE', key, 3600)
        return allowed
        """;

    public async Task<bool> AllowAsync(string client)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + skewSeconds;
        // EVAL by name, so the client cannot quietly turn it into EVALSHA.
        var result = await redis.GetDatabase().ExecuteAsync("EVAL", Script, 1, "rate_limiter:" + client, capacity, rate, now);
        return (long)result == 1;
    }
}
