--[[
RateGuard token bucket, one atomic decision per call.

The bucket holds up to `capacity` tokens and refills continuously, one token every
`interval` microseconds. It is stored as a single integer: the time (microseconds since
the Unix epoch) at which the bucket will be full again. A missing key, or a time in the
past, is a full bucket; this is the GCRA form of a token bucket and gives the same
decisions. The key expires exactly when the bucket is full again, so idle buckets cost
no memory and an expired key is indistinguishable from a full bucket.

KEYS[1]  the bucket key, "{prefix}:{bucket}:{{value}}" (the hash tag keeps one client's
         buckets in one cluster slot)
ARGV[1]  interval: microseconds per token, an integer >= 1 (1e6 / rate, computed once by
         the client so that every store uses identical integer arithmetic)
ARGV[2]  capacity: tokens, an integer >= 1
ARGV[3]  cost: tokens this request takes, an integer >= 1
ARGV[4]  optional, client-clock mode: the current time in microseconds since the Unix
         epoch. When absent the Redis server clock (TIME) is used, one clock for every
         app instance.

Returns { admitted, remaining, retry_after, reset_after }
  admitted     1 when the request was admitted (cost deducted), 0 when rejected (nothing
               deducted)
  remaining    whole tokens left after this decision
  retry_after  microseconds until `cost` tokens exist; 0 when admitted; -1 when never
               (cost > capacity)
  reset_after  microseconds until the bucket is full again
]]

-- Redis 3.2 to 4 replicate a script that reads TIME and then writes only in effects mode; from Redis 5 on this is
-- the default and the call does nothing.
if redis.replicate_commands then
  redis.replicate_commands()
end

local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now == nil then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end

local window = capacity * interval
local full_at = tonumber(redis.call('GET', KEYS[1]))
if full_at == nil or full_at < now then
  full_at = now
end

-- When the clock steps backwards, full_at may lie more than a window ahead: the bucket
-- then reads as empty rather than gaining tokens.
local debt = full_at - now
local tokens = math.floor((window - debt) / interval)
if tokens < 0 then
  tokens = 0
end

if cost > capacity then
  return { 0, tokens, -1, debt }
end

local next_full_at = full_at + cost * interval
local excess = next_full_at - now - window
if excess > 0 then
  return { 0, tokens, excess, debt }
end

local reset_after = next_full_at - now
redis.call('SET', KEYS[1], string.format('%.0f', next_full_at), 'PX', math.ceil(reset_after / 1000))
return { 1, tokens - cost, 0, reset_after }
