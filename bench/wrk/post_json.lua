-- wrk request script: POST one JSON body, with HTTP Basic auth, on every
-- keep-alive connection. The request is static (built once by wrk), so the
-- client stays cheap and the server is what a run measures.
--
-- Environment (set by bench/http.sh, which holds the bodies of its targets):
--   OTPPI_BENCH_BODY   the JSON body
--   OTPPI_BENCH_AUTH   value of the Authorization header ("Basic ...")

wrk.method = "POST"
wrk.body = os.getenv("OTPPI_BENCH_BODY") or error("OTPPI_BENCH_BODY is not set")
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("OTPPI_BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

-- One machine-readable line for bench/http.sh; latencies in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
