-- Sets X-Client to one of 1,000 distinct values, the next one on every request (each thread starts at its own
-- offset), and counts responses by status across all wrk threads: one line "statuses 200=N 429=M ...".
local threads = {}
local clients = 1000

function setup(thread)
  thread:set("offset", #threads * 500)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
  n = offset or 0
end

function request()
  n = n + 1
  wrk.headers["X-Client"] = "client-" .. (n % clients)
  return wrk.format()
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for status, k in pairs(c) do
      total[status] = (total[status] or 0) + k
    end
  end
  local line = "statuses"
  for status, k in pairs(total) do
    line = line .. " " .. status .. "=" .. k
  end
  io.write(line .. "\n")
end
