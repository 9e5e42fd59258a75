#!/usr/bin/env bash
# How much sooner `tandem serve --index hnsw` answers when it loads a saved
# graph (`tandem index build`, `--index-file`) instead of building it: the
# time from launching the server until its first successful
# POST /v1/recommend reply, with and without --index-file, runs alternated,
# plus `tandem index build`'s time and the index file's size. A benchmark,
# not a test.
#   scripts/index-startup.sh [--model FILE] [--items 500000] [--runs 3]
#                            [--threads 2] [--user 1] [--out DIR] [--index-file IDX]
# Without --model it generates a synthetic log (`tandem synth`, --items items,
# 100k users, 3M interactions, item Zipf 0.5) and trains a one-epoch Keras-RS
# model on it into DIR (default out/index-startup). With --index-file, that
# saved graph is timed instead of building one (no build time then). Prints one line per run
# and the medians; JSON lines in DIR/results.jsonl.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="" index="" items=500000 runs=3 threads=2 user=1 out="$root/out/index-startup"
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2 ;;
    --items) items="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --index-file) index="$2"; shift 2 ;;
    *) echo "index-startup.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
tandem="${TANDEM:-$root/build/tandem}"
[ -x "$tandem" ] || "$root/scripts/build.sh" >&2
mkdir -p "$out"
if [ -z "$model" ]; then
  model="$out/synth-$items.tandem"
  if [ ! -f "$model" ]; then
    mkdir -p "$out/synth-$items"
    "$tandem" synth --users 100000 --items "$items" --interactions 3000000 --item-zipf 0.5 \
      --seed 1 --output "$out/synth-$items/u.data" >&2
    "$tandem" train --preset kerasrs --data "$out/synth-$items" --epochs 1 --threads "$threads" \
      --train-count 2990000 --test-count 10000 --quiet --output "$model" >&2
  fi
fi
results="$out/results.jsonl"

now() { date +%s.%N; }

if [ -z "$index" ]; then
  index="$out/$(basename "$model" .tandem).hnsw"
  echo "Building the graph: $tandem index build --model $model --output $index" >&2
  "$tandem" index build --json --model "$model" --output "$index" | tee -a "$results"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Seconds from launch to the first 200 from POST /v1/recommend (polled every
# 20 ms); the server is stopped afterwards.
first_reply() {
  local port pid t0 t1 code
  port="$(free_port)"
  t0="$(now)"
  "$tandem" serve --model "$model" --index hnsw --port "$port" --threads "$threads" "$@" \
    2>"$out/serve.log" &
  pid=$!
  while :; do
    code="$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/recommend" \
      -d "{\"user_id\": \"$user\", \"k\": 10, \"candidates\": 100}" || true)"
    [ "$code" = 200 ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "index-startup.sh: the server exited before answering:" >&2
      cat "$out/serve.log" >&2
      exit 1
    fi
    sleep 0.02
  done
  t1="$(now)"
  kill -TERM "$pid"
  wait "$pid" || true
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}

built=() loaded=()
for r in $(seq 1 "$runs"); do
  b="$(first_reply)"
  l="$(first_reply --index-file "$index")"
  built+=("$b") loaded+=("$l")
  echo "run $r: first reply after ${b} s building the graph, ${l} s loading $index" >&2
  echo "{\"run\": $r, \"built_seconds\": $b, \"loaded_seconds\": $l}" >>"$results"
done
python3 - "${built[*]}" "${loaded[*]}" "$(stat -c %s "$index")" <<'EOF'
import statistics, sys
built = [float(x) for x in sys.argv[1].split()]
loaded = [float(x) for x in sys.argv[2].split()]
size = int(sys.argv[3])
b, l = statistics.median(built), statistics.median(loaded)
print(f"first reply, median of {len(built)}: built {b:.2f} s, loaded {l:.2f} s: {b / l:.1f}x sooner; "
      f"index file {size / 1e6:.1f} MB")
EOF
