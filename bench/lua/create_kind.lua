-- POST a new namespace per request under bench.load, of kind NSROOT_BENCH_KIND, with the
-- metadata document in the file NSROOT_BENCH_METADATA (the same bytes in every request and
-- in every arm, so arms differ only in the kind); ids unique per run and connection thread.
local counter = 0
local run = os.getenv("NSROOT_BENCH_RUN") or "r"
local kind = assert(os.getenv("NSROOT_BENCH_KIND"), "NSROOT_BENCH_KIND is not set")
local file = assert(io.open(assert(os.getenv("NSROOT_BENCH_METADATA"), "NSROOT_BENCH_METADATA is not set"), "rb"))
local metadata = file:read("*a")
file:close()
local tail = '","kind":"' .. kind .. '","labels":{"tier":"gold","team":"platform"},"metadata":' .. metadata .. '}'
wrk.method = "POST"
wrk.path = "/v1/namespaces"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"id":"bench.load.' .. run .. '-' .. counter .. tail)
end
