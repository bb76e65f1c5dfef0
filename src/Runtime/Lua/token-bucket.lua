--[[
RateGuard token buckets, decided atomically.

A bucket holds up to `capacity` tokens and refills continuously, one token every `interval`
microseconds. It is stored as a single integer: the time (microseconds since the Unix epoch)
at which the bucket will be full again. A missing key, or a time in the past, is a full
bucket; this is the GCRA form of a token bucket and gives the same decisions. The key
expires exactly when the bucket is full again, so idle buckets cost no memory and an
expired key is indistinguishable from a full bucket.

Two calling forms share that storage.

Single bucket (the original contract, kept for callers of its own):
  KEYS[1]  the bucket key
  ARGV[1]  interval: microseconds per token, an integer >= 1
  ARGV[2]  capacity: tokens, an integer >= 1
  ARGV[3]  cost: tokens this request takes, an integer >= 1
  ARGV[4]  optional: the current time in microseconds (client-clock mode); else TIME
  Returns { admitted, remaining, retry_after, reset_after }

Requests (what RateGuard sends):
  ARGV[1]  "rg2"
  ARGV[2]  the current time in microseconds (client-clock mode), or "" to read TIME
  ARGV[3]  the number of requests; then, for each request in turn:
             deadline  microseconds on the script's clock after which the request is no
                       longer waited for, so it must take nothing; 0 for none
             buckets   how many buckets the request draws from; then, for each bucket:
                       interval, capacity, cost (as above, or 0 to decide nothing), and
                       debt: tokens charged whatever the decision, never below an empty
                       bucket (what a local fallback admitted and owes the bucket); a
                       negative debt gives tokens back, never above a full bucket (a
                       request that other buckets rejected, on another cluster slot)
  KEYS     every bucket key of every request, in the same order
  Returns { now, then for each request: status, then for each of its buckets: remaining,
            retry_after, reset_after }
  status   1: admitted, every bucket charged its cost; 0: rejected, no bucket charged (the
           debts are); -1: the deadline had passed, nothing was read or written

  remaining    whole tokens left after this decision
  retry_after  microseconds until this bucket holds the request's cost; 0 when it does;
               -1 when never (cost > capacity)
  reset_after  microseconds until the bucket is full again

Requests are decided one after another, in order, each atomically with all of its buckets:
a request is admitted only if every one of its buckets holds its cost.
]]

-- Redis 3.2 to 4 replicate a script that reads TIME and then writes only in effects mode; from Redis 5 on this is
-- the default and the call does nothing.
if redis.replicate_commands then
  redis.replicate_commands()
end

local function clock(argument)
  local now = tonumber(argument)
  if now == nil then
    local time = redis.call('TIME')
    now = tonumber(time[1]) * 1000000 + tonumber(time[2])
  end
  return now
end

-- A bucket in debt is the time it is full again, expiring then. A bucket given back to full is marked full now and
-- gone a millisecond later, since an existing key must not keep its older, emptier time.
local function store(key, full_at, now)
  if full_at > now then
    redis.call('SET', key, string.format('%.0f', full_at), 'PX', math.ceil((full_at - now) / 1000))
  else
    redis.call('SET', key, string.format('%.0f', now), 'PX', 1)
  end
end

-- The bucket's time to full once `debt` tokens are charged (or, negative, given back): never past an empty bucket
-- (nor moved back, if the clock left it further), never before a full one.
local function owe(full_at, now, interval, window, debt)
  if debt == 0 then
    return full_at
  end
  local owed = full_at + debt * interval
  if owed > now + window then
    return math.max(full_at, now + window)
  end
  if owed < now then
    return now
  end
  return owed
end

-- When the clock steps backwards, full_at may lie more than a window ahead: the bucket then
-- reads as empty rather than gaining tokens.
local function tokens_at(full_at, now, interval, window)
  local tokens = math.floor((window - (full_at - now)) / interval)
  if tokens < 0 then
    return 0
  end
  return tokens
end

-- One bucket: takes `debt` whatever the decision (never below an empty bucket), then `cost` if the bucket holds it.
-- Returns admitted (1 or 0), remaining, retry_after, reset_after.
local function decide_one(key, now, interval, capacity, cost, debt)
  local window = capacity * interval
  local full_at = tonumber(redis.call('GET', key))
  if full_at == nil or full_at < now then
    full_at = now
  end
  local owed = owe(full_at, now, interval, window, debt)
  local retry = -1
  if cost <= capacity then
    retry = owed + cost * interval - now - window
    if retry <= 0 then
      if cost > 0 or owed ~= full_at then
        store(key, owed + cost * interval, now)
      end
      return 1, tokens_at(owed + cost * interval, now, interval, window), 0, owed + cost * interval - now
    end
  end
  if owed ~= full_at then
    store(key, owed, now)
  end
  return 0, tokens_at(owed, now, interval, window), retry, owed - now
end

if ARGV[1] ~= 'rg2' then
  local admitted, remaining, retry, reset = decide_one(KEYS[1], clock(ARGV[4]), tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), 0)
  return { admitted, remaining, retry, reset }
end

local now = clock(ARGV[2])
local requests = tonumber(ARGV[3])

-- One request for one bucket, the common case, straight through: the same decision as below, without its tables.
if requests == 1 and #KEYS == 1 then
  local deadline = tonumber(ARGV[4])
  if deadline > 0 and now > deadline then
    return { now, -1, 0, 0, 0 }
  end
  local admitted, remaining, retry, reset = decide_one(KEYS[1], now, tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]))
  return { now, admitted, remaining, retry, reset }
end

local reply = { now }
local n = 1
local arg = 4
local key_index = 1
-- Within one call a key may come up more than once (the same bucket in several requests, or twice in one); every
-- read goes through this table so that each sees what the ones before it wrote.
local state = {}
-- Each key whose bucket this call changed, once, in the order first changed: written at the end, so that a bucket
-- many requests of the call draw from (a global key, a big tenant) costs one write, not one per request.
local changed, changed_keys = {}, {}

local function change(key, full_at)
  state[key] = full_at
  if not changed[key] then
    changed[key] = true
    changed_keys[#changed_keys + 1] = key
  end
end
-- Each bucket of the request being decided, in columns reused from one request to the next.
local b_key, b_interval, b_window, b_cost, b_full, b_retry = {}, {}, {}, {}, {}, {}

local function read(key)
  local full_at = state[key]
  if full_at == nil then
    -- Read once per call: a missing key is a full bucket, the same as one full since the epoch.
    full_at = tonumber(redis.call('GET', key)) or 0
    state[key] = full_at
  end
  if full_at < now then
    return now
  end
  return full_at
end

for _ = 1, requests do
  local deadline = tonumber(ARGV[arg])
  local count = tonumber(ARGV[arg + 1])
  arg = arg + 2
  if deadline > 0 and now > deadline then
    n = n + 1
    reply[n] = -1
    for _ = 1, count do
      reply[n + 1], reply[n + 2], reply[n + 3] = 0, 0, 0
      n = n + 3
    end
    arg = arg + 4 * count
    key_index = key_index + count
  elseif count == 1 then
    -- One bucket, most requests of a batch: the same decision as below, without the columns a request of several needs.
    local key = KEYS[key_index]
    local interval, capacity, cost = tonumber(ARGV[arg]), tonumber(ARGV[arg + 1]), tonumber(ARGV[arg + 2])
    local window = capacity * interval
    local full_at = read(key)
    local owed = owe(full_at, now, interval, window, tonumber(ARGV[arg + 3]))
    key_index = key_index + 1
    arg = arg + 4
    if owed ~= full_at then
      change(key, owed)
    end
    local retry = -1
    if cost <= capacity then
      retry = owed + cost * interval - now - window
    end
    if cost > capacity or retry > 0 then
      reply[n + 1], reply[n + 2], reply[n + 3], reply[n + 4] = 0, tokens_at(owed, now, interval, window), retry, owed - now
    else
      local next_full_at = owed + cost * interval
      if cost > 0 then
        change(key, next_full_at)
      end
      reply[n + 1], reply[n + 2], reply[n + 3], reply[n + 4] = 1, tokens_at(next_full_at, now, interval, window), 0, next_full_at - now
    end
    n = n + 4
  else
    -- First pass: charge debts and see whether every bucket holds its cost, against what the request's own earlier
    -- buckets would take (the same key twice costs twice).
    local tentative = {}
    local admitted = true
    for b = 1, count do
      local key = KEYS[key_index]
      local interval = tonumber(ARGV[arg])
      local capacity = tonumber(ARGV[arg + 1])
      local cost = tonumber(ARGV[arg + 2])
      local debt = tonumber(ARGV[arg + 3])
      key_index = key_index + 1
      arg = arg + 4
      local window = capacity * interval
      local full_at = tentative[key] or read(key)
      local owed = owe(full_at, now, interval, window, debt)
      if owed ~= full_at then
        full_at = owed
        change(key, owed)
      end
      local retry = -1
      if cost <= capacity then
        retry = full_at + cost * interval - now - window
        if retry > 0 then
          admitted = false
        else
          retry = 0
        end
      else
        admitted = false
      end
      tentative[key] = full_at + cost * interval
      b_key[b], b_interval[b], b_window[b], b_cost[b], b_full[b], b_retry[b] = key, interval, window, cost, full_at, retry
    end

    n = n + 1
    if admitted then
      reply[n] = 1
      -- A key that comes up twice ends with the sum of both costs; a bucket that costs nothing is not changed.
      for b = 1, count do
        local next_full_at = b_full[b] + b_cost[b] * b_interval[b]
        if b_cost[b] > 0 then
          change(b_key[b], next_full_at)
        end
        reply[n + 1], reply[n + 2], reply[n + 3] = tokens_at(next_full_at, now, b_interval[b], b_window[b]), 0, next_full_at - now
        n = n + 3
      end
    else
      reply[n] = 0
      for b = 1, count do
        reply[n + 1], reply[n + 2], reply[n + 3] = tokens_at(b_full[b], now, b_interval[b], b_window[b]), b_retry[b], b_full[b] - now
        n = n + 3
      end
    end
  end
end
for _, key in ipairs(changed_keys) do
  store(key, state[key], now)
end
return reply
