#!/usr/bin/python3
"""The bare cost of scoring a test set against a catalogue: the blocked
float32 product queries @ items.T, as numpy (OpenBLAS sgemm) computes it,
with nothing done to the scores. The yardstick of `tandem evaluate`'s
eval_seconds (bench/eval_vs_sgemm.sh).

Run it with Debian's python (/usr/bin/python3, python3-numpy on the system
OpenBLAS) and the thread count in OPENBLAS_NUM_THREADS:

  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/numpy_score_product.py \
      --queries 10000 --items 500000 --dim 32 --block 1024 --runs 5

Prints one JSON line: the median and every run's seconds, FLOPs and GFLOP/s.
"""
import argparse
import json
import statistics
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=int, default=10000)
    ap.add_argument("--items", type=int, default=500000)
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--block", type=int, default=1024, help="queries per product")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    queries = rng.standard_normal((a.queries, a.dim), dtype=np.float32)
    items = rng.standard_normal((a.items, a.dim), dtype=np.float32)
    out = np.empty((min(a.block, a.queries), a.items), dtype=np.float32)
    runs = []
    for _ in range(a.runs):
        start = time.perf_counter()
        for q0 in range(0, a.queries, a.block):
            q = queries[q0:q0 + a.block]
            np.matmul(q, items.T, out=out[: len(q)])
        runs.append(time.perf_counter() - start)
    flops = 2.0 * a.queries * a.items * a.dim
    median = statistics.median(runs)
    print(json.dumps({"queries": a.queries, "items": a.items, "dim": a.dim, "block": a.block,
                      "median_seconds": median, "runs_seconds": runs, "flops": flops,
                      "gflops_per_second": flops / median / 1e9}))


if __name__ == "__main__":
    main()
