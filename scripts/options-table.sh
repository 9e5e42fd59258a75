#!/usr/bin/env bash
# What each issue-7 option buys against the tfrs preset, as a Markdown table:
# one `tandem train --json` per option (everything else the preset's), on
# MovieLens-100K and on a synthetic set of 1M interactions (the speed issue's
# generator), and on MovieLens-1M when it is present.
#   scripts/options-table.sh [--quick] [--seeds N] > table.md
# --quick: MovieLens-100K only. --seeds N: every cell is the median of N
# runs with training seeds 1..N (--init-seed: initialisation and shuffling;
# the split stays the seed-42 one), with top-100's min-max beside it;
# default 1: one run, training seed 42 (the preset's).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" python3 >&2
[ -x "$root/build/tandem" ] || "$root/scripts/build.sh" >&2
tandem="$root/build/tandem"
quick=0
seeds=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --seeds) seeds="$2"; shift 2 ;;
    *) echo "options-table.sh: unknown argument '$1' (--quick, --seeds N)" >&2; exit 2 ;;
  esac
done
work="${TMPDIR:-/tmp}/tandem-options-table"
mkdir -p "$work"

# name|flags (added to --preset tfrs)
variants=(
  "tfrs preset (baseline)|"
  "+ logQ correction|--logq-correction"
  "+ temperature 0.5|--temperature 0.5"
  "+ accidental-hit removal|--remove-accidental-hits"
  "+ 512 hard negatives|--hard-negatives 512"
  "+ 1024 mixed negatives|--mixed-negatives 1024"
  "ranking loss bce|--ranking-loss bce"
  "ranking loss pairwise-logistic|--ranking-loss pairwise-logistic"
  "mmoe (4 experts)|--multitask mmoe"
  "ple (2+2 experts)|--multitask ple"
  "uncertainty weighting|--task-weighting uncertainty"
  "adam 0.01|--optimizer adam --learning-rate 0.01"
  "cosine schedule|--lr-schedule cosine"
  "embedding L2 0.03|--embedding-l2 0.03"
  "examples/tfrs-joint-best.toml|--config $root/examples/tfrs-joint-best.toml"
)
# (Not `--help | grep -q`: grep's early exit would fail the pipe under pipefail.)
train_help="$("$tandem" train --help)"
if [[ "$train_help" == *--item-features* ]]; then
  features="--user-features age,gender,occupation,zip --item-features genres,year --tower-layers 32"
  variants+=("side features + tower [32]|$features"
             "side features + tower [32] + logQ|$features --logq-correction"
             "side features + tower [32] + 1024 mixed negatives|$features --mixed-negatives 1024"
             "side features + timestamp + tower [32] + logQ|$features --timestamp-buckets 10 --logq-correction"
             "side features + tower [32] + mmoe|$features --multitask mmoe")
fi

run_set() {  # title, then extra flags for every run
  local title="$1"; shift
  echo
  echo "### $title"
  echo
  echo "| option | top-100 | top-10 | recall@100 | NDCG@10 | RMSE | AUC | train s |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for v in "${variants[@]}"; do
    local name="${v%%|*}" flags="${v#*|}" runs=() failed=""
    local seed_flags=("")
    if [ "$seeds" -gt 1 ]; then
      seed_flags=()
      for ((s = 1; s <= seeds; s++)); do seed_flags+=("--init-seed $s"); done
    fi
    for sf in "${seed_flags[@]}"; do
      # shellcheck disable=SC2086
      if out=$("$tandem" train --preset tfrs --threads 2 --quiet --json "$@" $flags $sf 2>"$work/err"); then
        runs+=("$(printf '%s\n' "$out" | tail -n 1)")
      else
        failed="$(tail -1 "$work/err")"
        break
      fi
    done
    if [ -n "$failed" ]; then
      echo "| $name | failed: $failed |||||||"
      continue
    fi
    python3 - "$name" "${runs[@]}" <<'PY'
import json, statistics, sys
name, runs = sys.argv[1], [json.loads(r) for r in sys.argv[2:]]
def med(get):
    vals = [v for v in (get(j) for j in runs) if v is not None]
    return statistics.median(vals) if vals else None
f = lambda v: "n/a" if v is None else "%.4f" % v
top = [j["accuracy_at"].get("100") for j in runs]
top100 = f(med(lambda j: j["accuracy_at"].get("100")))
if len(runs) > 1 and None not in top:
    top100 += " (%.4f-%.4f)" % (min(top), max(top))
print("| %s | %s | %s | %s | %s | %s | %s | %.1f |" % (
    name, top100, f(med(lambda j: j["accuracy_at"].get("10"))),
    f(med(lambda j: j.get("recall_at", {}).get("100"))), f(med(lambda j: j.get("ndcg_at", {}).get("10"))),
    f(med(lambda j: j.get("rmse"))), f(med(lambda j: j.get("auc"))), med(lambda j: j["train_seconds"])))
PY
  done
}

run_set "MovieLens-100K (tfrs split: seed 42, 80,000 / 20,000)"
if [ "$quick" = 0 ]; then
  synth="$work/synth-1m"
  mkdir -p "$synth"
  [ -f "$synth/u.data" ] || "$tandem" synth --users 20000 --items 10000 --interactions 1000000 \
      --seed 7 --output "$synth/u.data" >&2
  run_set "Synthetic, 1M interactions (20,000 users, 10,000 items; seeded 800,000 / 200,000 split)" \
      --data "$synth" --train-count 800000 --test-count 200000
  ml1m="$root/../shared/data/ml-1m"
  if [ -f "$ml1m/ratings.dat" ]; then
    run_set "MovieLens-1M (seeded 800,167 / 200,042 split)" --data "$ml1m" \
        --train-count 800167 --test-count 200042
  fi
fi
