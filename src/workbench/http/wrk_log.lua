-- The workbench's wrk script: every request's latency, status and start, logged.
--
-- wrk keeps only a latency histogram; this script times each request itself on the monotonic
-- clock (LuaJIT's ffi: clock_gettime), one connection per wrk thread so that request() and
-- response() alternate in each thread. A request() that finds the previous request without
-- its response (wrk reconnected after an error or a closed connection) records that one as
-- failed (status 0). done() writes one log per thread: "start_ns latency_ns status".
-- Before the run, wrk calls request() once in its first thread to count pipelined requests:
-- that call is not a request and is not recorded.
--
-- Arguments after "--": the run's folder (holding the raw request, written by the workbench)
-- and the requests per thread (0: until the run's duration ends).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } workbench_timespec;
int clock_gettime(int clk_id, workbench_timespec *tp);
]]
local clock = ffi.new("workbench_timespec")
local CLOCK_MONOTONIC = 1

local function now_ns()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000000000 + tonumber(clock.tv_nsec)
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  folder = args[1]
  quota = tonumber(args[2]) or 0
  local file = assert(io.open(folder .. "/request", "rb"))
  raw = file:read("*a")
  file:close()
  starts, latencies, codes = {}, {}, {}
  count = 0
  pending = nil
  counting = (id == 1) -- the first thread's first request() call is wrk's check (see above)
end

local function progress(finished)
  local file = io.open(folder .. "/progress." .. id, "w")
  if file then
    file:write(count, finished and " done" or "", "\n")
    file:close()
  end
end

local function record(started, ended, status)
  count = count + 1
  starts[count] = started
  latencies[count] = ended - started
  codes[count] = status
  if count % 64 == 0 then
    progress(false)
  end
end

function request()
  if counting then
    counting = false
    return raw
  end
  local t = now_ns()
  if pending then
    record(pending, t, 0)
  end
  if quota > 0 and count >= quota then
    progress(true)
    wrk.thread:stop()
  end
  pending = t
  return raw
end

function response(status, headers, body)
  local t = now_ns()
  if pending then
    record(pending, t, status)
  end
  pending = nil
  if quota > 0 and count >= quota then
    progress(true)
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local where = threads[1]:get("folder")
  for _, thread in ipairs(threads) do
    local id = thread:get("id")
    local s, l, c = thread:get("starts"), thread:get("latencies"), thread:get("codes")
    local file = assert(io.open(where .. "/log." .. id, "w"))
    for i = 1, #s do
      file:write(string.format("%.0f %.0f %d\n", s[i], l[i], c[i]))
    end
    file:close()
  end
  local e = summary.errors
  local file = assert(io.open(where .. "/summary", "w"))
  file:write(string.format("%d %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout))
  file:close()
end
