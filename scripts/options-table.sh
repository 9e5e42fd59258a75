#!/usr/bin/env bash
# What each issue-7 option buys against the tfrs preset, as a Markdown table:
# one `tandem train --json` per option (everything else the preset's), on
# MovieLens-100K and on a synthetic set of 1M interactions (the speed issue's
# generator), and on MovieLens-1M when it is present.
#   scripts/options-table.sh [--quick] > table.md
# --quick: MovieLens-100K only. Medians are not taken: each cell is one run
# (seed 42 split, training seed 42); docs/results.md states the spread of
# the headline configuration over seeds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" python3 >&2
[ -x "$root/build/tandem" ] || "$root/scripts/build.sh" >&2
tandem="$root/build/tandem"
quick=0
[ "${1:-}" = "--quick" ] && quick=1
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
if "$tandem" train --help | grep -q -- "--item-features"; then
  variants+=("side features + tower [32]|--user-features age,gender,occupation,zip --item-features genres,year --tower-layers 32")
fi

run_set() {  # title, then extra flags for every run
  local title="$1"; shift
  echo
  echo "### $title"
  echo
  echo "| option | top-100 | top-10 | recall@100 | NDCG@10 | RMSE | AUC | train s |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for v in "${variants[@]}"; do
    local name="${v%%|*}" flags="${v#*|}"
    # shellcheck disable=SC2086
    if out=$("$tandem" train --preset tfrs --threads 2 --quiet --json "$@" $flags 2>"$work/err"); then
      python3 - "$name" "$out" <<'PY'
import json, sys
name, j = sys.argv[1], json.loads(sys.argv[2].strip().splitlines()[-1])
f = lambda v: "n/a" if v is None else "%.4f" % v
print("| %s | %s | %s | %s | %s | %s | %s | %.1f |" % (
    name, f(j["accuracy_at"].get("100")), f(j["accuracy_at"].get("10")),
    f(j.get("recall_at", {}).get("100")), f(j.get("ndcg_at", {}).get("10")),
    f(j.get("rmse")), f(j.get("auc")), j["train_seconds"]))
PY
    else
      echo "| $name | failed: $(tail -1 "$work/err") |||||||"
    fi
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
