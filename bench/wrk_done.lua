-- wrk's end-of-run hook, used by bench/pages.sh, api.sh and throughput.sh (journey.lua loads it):
-- prints one machine-readable line, so that the script does not have to parse wrk's human output
-- (whose latency units change between us, ms and s). Latencies are wrk's own histogram, in microseconds.
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx3xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status, errors))
end
