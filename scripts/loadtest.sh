#!/usr/bin/env bash
# Load test of `tandem serve` on loopback with wrk (Debian's package, installed
# if missing): stepped concurrency, then a soak run with the server's resident
# memory read before and after.
#   scripts/loadtest.sh [--model FILE] [--index exact|hnsw] [--step-seconds 5]
#                       [--soak-seconds 60] [--concurrency "1 2 4 8 16 32"]
#                       [--k 10] [--candidates 100] [--threads 16] [--users 943]
#                       [--slow-clients N] [--binary PATH]
# Requests cycle through user ids 1..--users (MovieLens-100K has 943).
# --slow-clients N keeps N slowloris connections open for the whole run (each
# sends one header byte per second and never finishes its request), so the
# table shows what they cost everyone else. --binary runs another tandem
# build (e.g. an older one, for a before/after table on the same machine).
# Without --model it trains the Keras-RS multi-task model on MovieLens-100K
# into out/loadtest/joint.tandem. Results: a table on stdout, JSON lines in
# out/loadtest/results.jsonl.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="" index="exact" step=5 soak=60 levels="1 2 4 8 16 32" k=10 candidates=100 threads=16 users=943
slow=0 tandem="$root/build/tandem" prebuilt=0
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --index) index="$2"; shift 2 ;;
    --step-seconds) step="$2"; shift 2 ;;
    --soak-seconds) soak="$2"; shift 2 ;;
    --concurrency) levels="$2"; shift 2 ;;
    --k) k="$2"; shift 2 ;;
    --candidates) candidates="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --users) users="$2"; shift 2 ;;
    --slow-clients) slow="$2"; shift 2 ;;
    --binary) tandem="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; prebuilt=1; shift 2 ;;
    *) echo "loadtest.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
[ "$prebuilt" = 1 ] || "$root/scripts/build.sh" >&2  # --binary: run it as it is
if ! command -v wrk >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
out="$root/out/loadtest"
mkdir -p "$out"
if [ -z "$model" ]; then
  model="$out/joint.tandem"
  echo "Training the Keras-RS multi-task model into $model..." >&2
  "$tandem" train --preset kerasrs --quiet --output "$model" >/dev/null
fi

log="$out/serve.log"
"$tandem" serve --model "$model" --port 0 --index "$index" --threads "$threads" 2>"$log" &
pid=$!
slow_pid=""
trap 'kill $pid 2>/dev/null || true; [ -z "$slow_pid" ] || kill $slow_pid 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 300); do
  port="$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log")"
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "server did not start" >&2; cat "$log" >&2; exit 1; }
cat "$log" >&2
url="http://127.0.0.1:$port/v1/recommend"
if [ "$slow" -gt 0 ]; then
  # Slowloris: N connections, each an unfinished header growing a byte a second.
  /usr/bin/python3 - "$port" "$slow" <<'PY' &
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /v1/recommend HTTP/1.1\r\nHost: t\r\nX-Slow: ")
    conns.append(s)
while True:
    time.sleep(1)
    for s in list(conns):
        try:
            s.send(b"a")
        except OSError:  # closed by the server's header deadline: reopen
            conns.remove(s)
            try:
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(b"POST /v1/recommend HTTP/1.1\r\nHost: t\r\nX-Slow: ")
                conns.append(s)
            except OSError:
                pass
PY
  slow_pid=$!
  sleep 1
  echo "Slow clients: $slow slowloris connections open (one header byte per second each)"
fi
export TANDEM_K="$k" TANDEM_CANDIDATES="$candidates" TANDEM_USERS="$users"
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
run_wrk() {  # concurrency seconds -> one JSON line
  local c="$1" s="$2" t=$(( $1 < 2 ? $1 : 2 ))
  wrk -t"$t" -c"$c" -d"${s}s" --timeout 5s -s "$root/bench/wrk_recommend.lua" "$url" | tail -n 1
}

results="$out/results.jsonl"
: >"$results"
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "Binary: $tandem ($(cd "$(dirname "$tandem")/.." 2>/dev/null && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "Model: $model; index $index; k=$k from $candidates candidates, exclude_seen, users cycling 1..$TANDEM_USERS; server threads $threads; slow clients $slow"
run_wrk 8 2 >/dev/null  # warm-up: first touches of pages and thread-local buffers
printf '\n| concurrency | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors |\n|---:|---:|---:|---:|---:|---:|---:|\n'
for c in $levels; do
  line="$(run_wrk "$c" "$step")"
  echo "{\"phase\": \"step\", \"concurrency\": $c, \"index\": \"$index\", \"wrk\": $line}" >>"$results"
  echo "$line" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read()); c = sys.argv[1]
errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"] + r["non_2xx"]
ms = {q: r[q + "_us"] / 1e3 for q in ("p50", "p90", "p99", "p999")}
print("| %s | %.0f | %.3f | %.3f | %.3f | %.3f | %d |" % (c, r["rps"], ms["p50"], ms["p90"], ms["p99"], ms["p999"], errors))' "$c"
done

if [ "$soak" -gt 0 ]; then
  before="$(rss_kb)"
  line="$(run_wrk 8 "$soak")"
  after="$(rss_kb)"
  echo "{\"phase\": \"soak\", \"concurrency\": 8, \"seconds\": $soak, \"rss_kb_before\": $before, \"rss_kb_after\": $after, \"wrk\": $line}" >>"$results"
  echo "$line" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read()); before, after, s = map(int, sys.argv[1:4])
errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"] + r["non_2xx"]
print("\nSoak: %d s at concurrency 8: %d requests, %.0f req/s, p50 %.3f ms, p99 %.3f ms, errors %d"
      % (s, r["requests"], r["rps"], r["p50_us"] / 1e3, r["p99_us"] / 1e3, errors))
print("Server resident memory: %.1f MiB before, %.1f MiB after (%+.1f MiB)"
      % (before / 1024, after / 1024, (after - before) / 1024))' "$before" "$after" "$soak"
fi
errors="$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^tandem_request_errors_total/ {s += $2} END {print s + 0}')"
echo "Server-side errors counted in /metrics: $errors"
t0=$(date +%s.%N)
kill -TERM $pid
wait $pid && printf 'Server stopped cleanly (SIGTERM, exit 0) after %.3f s%s.\n' \
  "$(echo "$(date +%s.%N) - $t0" | bc)" "$([ "$slow" -gt 0 ] && echo " with $slow slow connections open")"
[ -z "$slow_pid" ] || { kill $slow_pid 2>/dev/null || true; wait $slow_pid 2>/dev/null || true; }
trap - EXIT
