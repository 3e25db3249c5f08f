-- POST a new namespace per request under bench.load; ids unique per run and connection thread.
local counter = 0
local run = os.getenv("NSROOT_BENCH_RUN") or "r"
wrk.method = "POST"
wrk.path = "/v1/namespaces"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = '{"id":"bench.load.' .. run .. '-' .. counter ..
    '","kind":"service","labels":{"tier":"gold","team":"platform"},"metadata":{"port":8080,"replicas":3}}'
  return wrk.format(nil, nil, nil, body)
end
