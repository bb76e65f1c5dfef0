--[[
RateGuard token buckets, decided atomically.

The contract of one call (the requests form, what RateGuard sends):
  - Its requests are decided one after another, in the order given; each sees what the ones
    before it wrote.
  - A request whose deadline has passed reads and writes nothing (status -1).
  - Otherwise its debts are charged first, in order, whatever the decision: a debt takes
    tokens, never below an empty bucket (or, in a request whose debts may overdraw, never
    more than 100 years of refill below it: the bucket is then in debt, and holds no token
    until that is paid back); a negative debt gives tokens back, paying back what the
    bucket owes however far in debt it is, and never above a full bucket.
  - Then its costs: each bucket of the request holds its cost if, after the debts and the
    costs of the request's earlier buckets with the same key, it still has that many
    tokens. The request is admitted (status 1) only if every one of its enforced buckets
    holds its cost, and then every bucket that holds its cost is charged; else (status 0)
    no cost is charged, and each bucket keeps only its debts.
  - A shadow bucket is decided and charged like the others, but one that does not hold its
    cost does not reject the request: it is not charged, and its retry_after (above 0)
    says it would have rejected.
  - A cost of 0 always holds and charges nothing.

A bucket holds up to `capacity` tokens and refills continuously, one token every `interval`
microseconds. It is stored as a single integer: the time (microseconds since the Unix epoch)
at which the bucket will be full again. A missing key, or a time in the past, is a full
bucket; this is the GCRA form of a token bucket and gives the same decisions. The key
expires exactly when the bucket is full again, so idle buckets cost no memory and an
expired key is indistinguishable from a full bucket.

Arguments:
  ARGV[1]  "rg2"
  ARGV[2]  the current time in microseconds (client-clock mode), or "" to read TIME
  ARGV[3]  the number of requests; then, for each request in turn:
             deadline  microseconds on the script's clock after which the request is no
                       longer waited for; 0 for none
             buckets   how many buckets the request draws from, negated (-n for n) when its
                       debts may overdraw; then, for each bucket:
                       interval (microseconds per token, >= 1), capacity (tokens, >= 1),
                       cost (tokens; negated, -c for c >= 1, for a shadow bucket) and debt
                       (tokens, any sign)
  KEYS     every bucket key of every request, in the same order
  Returns { now, then for each request: status, then for each of its buckets: remaining,
            retry_after, reset_after }
  remaining    admitted: whole tokens left once this bucket and the request's earlier
               buckets with its key are charged; rejected, or a shadow bucket that does
               not hold its cost: whole tokens the bucket holds
  retry_after  microseconds until this bucket holds its cost (after the request's earlier
               buckets with its key); 0 when it does; -1 when never (cost > capacity)
  reset_after  microseconds until the bucket is full again, as it is left

The older single-bucket form is kept for callers of its own, and decided as one request:
  KEYS[1] the bucket; ARGV[1] interval, ARGV[2] capacity, ARGV[3] cost (>= 1), ARGV[4]
  optionally the current time in microseconds. Returns { admitted, remaining, retry_after,
  reset_after }.
]]

-- Redis 3.2 to 4 replicate a script that reads TIME and then writes only in effects mode; from Redis 5 on this is
-- the default and the call does nothing.
if redis.replicate_commands then
  redis.replicate_commands()
end

local args = ARGV
local single = args[1] ~= 'rg2'
if single then
  args = { 'rg2', args[4] or '', 1, 0, 1, args[1], args[2], args[3], 0 }
end

local now = tonumber(args[2])
if now == nil then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end

-- Every bucket this call touched, as the time it is full again: read once from Redis, then what the call made of it.
local state = {}
-- The keys this call changed: written once each, at the end, so that a bucket many requests of the call draw from (a
-- global key, a big tenant) costs one write, not one per request.
local changed = {}

local function read(key)
  local full_at = state[key]
  if full_at == nil then
    full_at = tonumber(redis.call('GET', key)) or 0
    state[key] = full_at
  end
  if full_at < now then
    return now
  end
  return full_at
end

local function change(key, full_at)
  state[key] = full_at
  changed[key] = true
end

-- The furthest a bucket in debt may be full again: 100 years of refill, which keeps every time below 2^53.
local LONGEST = 3155760000000000

-- The bucket's time to full once `debt` tokens are charged (or, negative, given back): a charge never past an empty
-- bucket, or past LONGEST when the request's debts may overdraw (nor moved back, if the clock left it further); tokens
-- given back pay back what the bucket owes, however far in debt another request left it, and never fill it past full.
local function owe(full_at, interval, window, debt, overdraw)
  local owed = full_at + debt * interval
  local furthest = window
  if overdraw then
    furthest = LONGEST
  end
  if debt > 0 and owed > now + furthest then
    return math.max(full_at, now + furthest)
  end
  if owed < now then
    return now
  end
  return owed
end

-- When the clock steps backwards, full_at may lie more than a window ahead: the bucket then reads as empty rather than
-- gaining tokens.
local function tokens_at(full_at, interval, window)
  local tokens = math.floor((window - (full_at - now)) / interval)
  if tokens < 0 then
    return 0
  end
  return tokens
end

-- Made at the size of the commonest reply, one request of one bucket, since a table that grows is allocated again at
-- each doubling; a shorter reply has its extra values cut at the end.
local reply = { now, 0, 0, 0, 0 }
local n = 1
-- Each bucket of the request being decided, three values a bucket (key, time to full once charged, cost), in one table
-- reused from one request to the next.
local buckets = { false, false, false }

-- The one decision: the request whose deadline is args[a] and whose first key is KEYS[k]. Writes its part of the reply
-- and returns where the next request's key and arguments start.
local function decide(k, a)
  local deadline, count = tonumber(args[a]), tonumber(args[a + 1])
  local overdraw = count < 0
  if overdraw then
    count = -count
  end
  a = a + 2
  if deadline > 0 and now > deadline then
    n = n + 1
    reply[n] = -1
    for _ = 1, count do
      reply[n + 1], reply[n + 2], reply[n + 3] = 0, 0, 0
      n = n + 3
    end
    return k + count, a + 4 * count
  end
  -- The debts, whatever the decision.
  for b = 0, count - 1 do
    local at = a + 4 * b
    local debt = tonumber(args[at + 3])
    if debt ~= 0 then
      local key, interval = KEYS[k + b], tonumber(args[at])
      local full_at = read(key)
      local owed = owe(full_at, interval, tonumber(args[at + 1]) * interval, debt, overdraw)
      if owed ~= full_at then
        change(key, owed)
      end
    end
  end
  -- The costs, each against its bucket after the debts and the request's earlier buckets with its key. Each bucket's
  -- reply is written as the request would be answered if admitted; a rejection rewrites what differs.
  local admitted = true
  local status = n + 1
  n = status
  for b = 0, count - 1 do
    local at = a + 4 * b
    local key, interval, capacity, cost = KEYS[k + b], tonumber(args[at]), tonumber(args[at + 1]), tonumber(args[at + 2])
    local shadow = cost < 0
    if shadow then
      cost = -cost
    end
    local window = capacity * interval
    local from = nil
    for e = 3 * (b - 1), 0, -3 do
      if buckets[e + 1] == key then
        from = buckets[e + 2]
        break
      end
    end
    local base = from or read(key)
    local next_full_at = base + cost * interval
    local retry = -1
    if cost <= capacity then
      retry = next_full_at - now - window
      if retry <= 0 then
        retry = 0
      end
    end
    if retry ~= 0 then
      if shadow then
        -- It would reject: the request goes on without it, and it takes nothing.
        next_full_at, cost = base, 0
      else
        admitted = false
      end
    end
    buckets[3 * b + 1], buckets[3 * b + 2], buckets[3 * b + 3] = key, next_full_at, cost
    reply[n + 1], reply[n + 2], reply[n + 3] = tokens_at(next_full_at, interval, window), retry, next_full_at - now
    n = n + 3
  end
  if admitted then
    reply[status] = 1
    -- In order, so a key that comes up twice ends at its last bucket: the sum of both costs. A bucket that costs nothing
    -- is not changed.
    for b = 0, count - 1 do
      if buckets[3 * b + 3] > 0 then
        change(buckets[3 * b + 1], buckets[3 * b + 2])
      end
    end
  else
    -- Rejected: each bucket as it is left, with the wait for what the request asks of it.
    reply[status] = 0
    for b = 0, count - 1 do
      local at = a + 4 * b
      local interval = tonumber(args[at])
      local left = read(buckets[3 * b + 1])
      reply[status + 3 * b + 1], reply[status + 3 * b + 3] = tokens_at(left, interval, tonumber(args[at + 1]) * interval), left - now
    end
  end
  return k + count, a + 4 * count
end

local k, a = 1, 4
for _ = 1, tonumber(args[3]) do
  k, a = decide(k, a)
end

-- A bucket in debt is the time it is full again, expiring then. A bucket given back to full is marked full now and gone
-- a millisecond later, since an existing key must not keep its older, emptier time.
for key in pairs(changed) do
  local full_at = state[key]
  if full_at > now then
    redis.call('SET', key, string.format('%.0f', full_at), 'PX', math.ceil((full_at - now) / 1000))
  else
    redis.call('SET', key, string.format('%.0f', now), 'PX', 1)
  end
end

for i = n + 1, 5 do
  reply[i] = nil
end
if single then
  return { reply[2], reply[3], reply[4], reply[5] }
end
return reply
