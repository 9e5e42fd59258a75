#!/usr/bin/env bash
# The main job: set up, build, reproduce the reference experiment on
# MovieLens-100K (the Keras-RS tutorial's table, then the TFRS one), then the
# tutorial's last cell: top-10 movies for user 5 with predicted ratings.
# Data: --data is not needed when ../shared/data/ml-100k exists; otherwise set
# TANDEM_DATA to a directory holding u.data and u.item.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
cd "$root"
tandem="$root/build/tandem"
out="$root/out"
mkdir -p "$out"
echo "== Keras-RS protocol (examples/keras_rs/multi_task.py) =="
"$tandem" compare --preset kerasrs --output-dir "$out/kerasrs" "$@"
echo
echo "== TFRS protocol (docs/examples/multitask.ipynb) =="
"$tandem" compare --preset tfrs --output-dir "$out/tfrs" "$@"
echo
echo "== Retrieval then ranking for user 5 (multi-task model, Keras-RS protocol) =="
"$tandem" recommend --model "$out/kerasrs/joint.tandem" --user 5 --k 10
