-- GET a random one of the preloaded namespaces: bench.n0 .. bench.n<count-1>.
local count = tonumber(os.getenv("NSROOT_BENCH_COUNT") or "10000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/namespaces/bench.n" .. math.random(0, count - 1))
end
