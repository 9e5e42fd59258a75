-- wrk script for `scripts/loadtest.sh`: POST /v1/recommend for users cycling
-- through 1..users (each wrk thread starts at its own offset), k items from
-- `candidates`, exclude_seen, and a one-line JSON summary at the end.
local k = tonumber(os.getenv("TANDEM_K") or "10")
local candidates = tonumber(os.getenv("TANDEM_CANDIDATES") or "100")
local users = tonumber(os.getenv("TANDEM_USERS") or "943")
local next_thread = 0
local user = 0

function setup(thread)
  thread:set("user", next_thread * 97)
  next_thread = next_thread + 1
end

function request()
  user = user % users + 1
  local body = string.format(
    '{"user_id": "%d", "k": %d, "candidates": %d, "exclude_seen": true}', user, k, candidates)
  return wrk.format("POST", "/v1/recommend", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "p999_us": %d, "max_us": %d, "mean_us": %.1f, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "timeouts": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, e.connect, e.read, e.write, e.timeout,
    e.status))
end
