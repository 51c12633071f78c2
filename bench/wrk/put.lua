-- wrk script: PUT / with a body of BENCH_BODY_SIZE bytes that is different
-- for every request (run nonce, wrk thread number and a per-thread counter
-- are written at the start of the body), so every PUT stores a new block.
-- Environment: BENCH_WRK_DIR (this folder), BENCH_BODY_SIZE (default 1024),
-- BENCH_NONCE (default: the current time).

local dir = os.getenv("BENCH_WRK_DIR") or "bench/wrk"
dofile(dir .. "/report.lua")

local size = tonumber(os.getenv("BENCH_BODY_SIZE") or "1024")
local nonce = os.getenv("BENCH_NONCE") or tostring(os.time())

-- setup() runs in the main Lua state once per wrk thread, before init().
local thread_count = 0
function setup(thread)
  thread:set("thread_no", thread_count)
  thread_count = thread_count + 1
end

local pad
local counter = 0
local headers = { ["Content-Type"] = "application/octet-stream" }

function init(args)
  pad = string.rep("tig-bench-padding-", math.ceil(size / 18)):sub(1, size)
end

function request()
  counter = counter + 1
  local head = string.format("%s %d %d\n", nonce, thread_no or 0, counter)
  local body
  if #head >= size then
    body = head:sub(1, size)
  else
    body = head .. pad:sub(#head + 1)
  end
  return wrk.format("PUT", "/", headers, body)
end
