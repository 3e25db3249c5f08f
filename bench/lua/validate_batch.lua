-- POST a batch (a JSON array) of NSROOT_BENCH_BATCH copies of one document to the schema
-- validation endpoint; the same bytes every request.
--   NSROOT_BENCH_BODY   a file holding the JSON document (written by bench/schema_bench.py)
--   NSROOT_BENCH_BATCH  documents per request [100]
--   NSROOT_BENCH_PATH   the endpoint [/v1/schemas/service/validate]
local file = assert(io.open(assert(os.getenv("NSROOT_BENCH_BODY"), "NSROOT_BENCH_BODY is not set"), "rb"))
local document = file:read("*a")
file:close()
local count = tonumber(os.getenv("NSROOT_BENCH_BATCH") or "100")
local copies = {}
for i = 1, count do
  copies[i] = document
end
wrk.method = "POST"
wrk.path = os.getenv("NSROOT_BENCH_PATH") or "/v1/schemas/service/validate"
wrk.headers["Content-Type"] = "application/json"
wrk.body = "[" .. table.concat(copies, ",") .. "]"
