--[[
RateGuard client overrides: one hash per key prefix holding every operator's override of one client's limits on one
bucket, and a version that changes with them, so that each app instance reads one field to know whether to read the
hash again. One key, so it works on a Redis Cluster too.

Fields of the hash:
  "<bucket>:<client value>"  an override: "<expires at, unix ms> <capacity> <rate>"; bucket names hold no ':'
  "version"                  changed by every write that changes an override
  "next"                     no override expires before this time (unix ms): expired ones are looked for once it passed

KEYS[1]  the hash, "{prefix}:overrides"
ARGV[1]  'set' or 'remove'
ARGV[2]  now, in unix ms, on the clock of the instance that writes
ARGV[3]  the override's field
ARGV[4]  set: its value
ARGV[5]  set: when it expires, in unix ms
ARGV[6]  set: the most overrides the hash may hold
ARGV[7]  the version a hash starts from when it has none: the writer's clock in microseconds, so that a hash lost and
         written again does not repeat a version an instance has already read

Returns { done, held }: done is 1 when the override was set or removed, 0 when the hash was full or held none to
remove; held is how many overrides the hash holds afterwards, none of them expired.
]]

local hash = KEYS[1]
local now = tonumber(ARGV[2])
local changed = false

local function held()
  local count = redis.call('HLEN', hash)
  if redis.call('HGET', hash, 'version') then
    count = count - 1
  end
  if redis.call('HGET', hash, 'next') then
    count = count - 1
  end
  return count
end

-- Expired overrides go first, so that they neither count against the bound nor stay; the hash is read whole only
-- once the soonest expiry has passed.
local soonest = tonumber(redis.call('HGET', hash, 'next'))
if soonest ~= nil and soonest <= now then
  soonest = nil
  local fields = redis.call('HGETALL', hash)
  for i = 1, #fields, 2 do
    local field = fields[i]
    if field ~= 'version' and field ~= 'next' then
      local expires = tonumber(string.match(fields[i + 1], '^%d+'))
      if expires == nil or expires <= now then
        redis.call('HDEL', hash, field)
        changed = true
      elseif soonest == nil or expires < soonest then
        soonest = expires
      end
    end
  end
  if soonest == nil then
    redis.call('HDEL', hash, 'next')
  else
    redis.call('HSET', hash, 'next', string.format('%.0f', soonest))
  end
end

local done = 0
if ARGV[1] == 'set' then
  -- A replacement never counts against the bound; a new client does.
  if redis.call('HGET', hash, ARGV[3]) or held() < tonumber(ARGV[6]) then
    redis.call('HSET', hash, ARGV[3], ARGV[4])
    local expires = tonumber(ARGV[5])
    if soonest == nil or expires < soonest then
      redis.call('HSET', hash, 'next', ARGV[5])
    end
    changed = true
    done = 1
  end
elseif ARGV[1] == 'remove' then
  done = redis.call('HDEL', hash, ARGV[3])
  if done == 1 then
    changed = true
  end
end

if changed then
  if not redis.call('HGET', hash, 'version') then
    redis.call('HSET', hash, 'version', ARGV[7])
  end
  redis.call('HINCRBY', hash, 'version', 1)
end
return { done, held() }
