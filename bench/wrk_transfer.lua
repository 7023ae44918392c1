-- wrk script: internal transfers with a fresh Idempotency-Key per request, spread over several
-- customers (BENCH_CUSTOMERS = "token,accountA,accountB;..."), alternating direction so no account
-- runs dry. bench/api_bench.py sets the environment.
local run_id = os.getenv("BENCH_RUN_ID")
local customers = {}
for entry in string.gmatch(os.getenv("BENCH_CUSTOMERS"), "[^;]+") do
  local token, a, b = string.match(entry, "([^,]+),([^,]+),([^,]+)")
  table.insert(customers, {token = token, a = a, b = b})
end
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local counter = 0
local body = '{"from_account_id":"%s","to_account_id":"%s","amount":"1.00","currency":"EUR"}'

function request()
  counter = counter + 1
  local c = customers[(counter + tid) % #customers + 1]
  local forward = (math.floor(counter / #customers) % 2 == 0)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. c.token,
    ["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_id, tid, counter),
  }
  return wrk.format("POST", "/v1/transfers", headers,
                    string.format(body, forward and c.a or c.b, forward and c.b or c.a))
end
