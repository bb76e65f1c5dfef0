--[[
RateGuard instance heartbeat: how many app instances share the limits right now.

Each instance calls this about once a second. The set holds one member per instance, scored
with the time its heartbeat lapses; lapsed members are dropped, and the count of the rest is
the number of live instances. The set itself expires when no instance keeps it alive.

KEYS[1]  the instance set, "{prefix}:instances"
ARGV[1]  this instance's id
ARGV[2]  how long a heartbeat lasts, in milliseconds
ARGV[3]  optional, client-clock mode: the current time in milliseconds; else TIME
ARGV[4]  optional: "leave" to remove this instance instead

Returns the number of live instances.
]]

if redis.replicate_commands then
  redis.replicate_commands()
end

local now = tonumber(ARGV[3])
if now == nil then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local ttl = tonumber(ARGV[2])

if ARGV[4] == 'leave' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], ttl)
return redis.call('ZCARD', KEYS[1])
