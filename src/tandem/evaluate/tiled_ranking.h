// The evaluation's scoring kernel: ranks of target items among a whole
// catalogue for many queries, with the query x catalogue scores produced and
// consumed one cache-sized tile at a time, in parallel.
//
// How it works. Queries are ordered by their lowest target and cut into
// blocks of `tiles.queries`; the catalogue is cut into tiles of `tiles.items`
// candidates. Every (query block, item tile) pair is one sgemm into a
// per-thread scratch tile that is read at once and never stored. A target's
// rank is the number of candidates scoring strictly higher than it, and its
// own score must come from the same GEMM output as the scores it is compared
// with (OpenBLAS rounds an element differently depending on where it falls
// in the blocking, so a separate dot product could disagree by an ulp and
// turn a tie into a loss). Hence two sweeps:
//  1. for each query block, only the item tiles holding one of its targets
//     are scored, and the targets' scores are read from them;
//  2. every (block, tile) pair is scored again, identically (same call, same
//     shapes), and each candidate's score is placed among the query's sorted
//     target scores (one comparison when there is one target, a branch-free
//     binary search otherwise); excluded candidates are then taken back out.
// Ordering the queries by target keeps a block's targets in few tiles, so
// sweep 1 costs a few percent of sweep 2 on a large catalogue.
//
// Work is split into contiguous parts by worker index (sweep 1 by query
// block, sweep 2 by (block, tile) pair); every worker counts into its own
// integer array and the arrays are summed, so the result does not depend on
// timing, and for a fixed tile size not even on the thread count. Memory:
// threads x (tile + query block), plus O(targets), never queries x catalogue.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tandem/evaluate/topk.h"

namespace tandem {

// One list of candidate indices per query, in one flat array: query q's
// entries are items[offsets[q] .. offsets[q + 1]).
struct PerQueryLists {
  std::vector<int64_t> offsets{0};
  std::vector<int64_t> items;

  int64_t queries() const { return static_cast<int64_t>(offsets.size()) - 1; }
  void add(const int64_t* begin, const int64_t* end) {
    items.insert(items.end(), begin, end);
    offsets.push_back(static_cast<int64_t>(items.size()));
  }
};

// Tile shape: queries x catalogue items scored by one sgemm. The defaults
// were chosen by measurement (docs/performance.md): 256 x 2048 floats
// (2 MiB) per thread ran fastest on the 2-core EPYC development machine with
// dimension 32.
struct ScoreTiles {
  int64_t queries = 256;
  int64_t items = 2048;
};

struct TargetRankOptions {
  int threads = 1;  // workers; the BLAS runs single-threaded inside them
  ScoreTiles tiles;
  // Called on the calling thread (worker 0) as its share of sweep 2
  // progresses, with (done, total) in units of (query block, item tile).
  std::function<void(int64_t done, int64_t total)> on_progress;
};

// Where the kernel's time went, in thread-seconds summed over workers:
// sgemm calls (scoring) and the rank counting around them (ranking).
struct TargetRankTimes {
  double scoring = 0.0, ranking = 0.0;
};

// For each query q ([n, dim] row-major, n = targets.queries()) and each
// entry t of its target list, the number of candidates not in excluded[q]
// scoring strictly higher than candidate t (ties count in t's favour);
// returned parallel to targets.items. A target scoring NaN gets rank
// `candidates.count` (never a hit); NaN candidates never count as higher.
// Target lists may repeat an entry (each gets its rank). `excluded` may be
// null; its lists need not be sorted, may repeat entries, and must not hold a
// target of the same query.
// Errors (tandem::Error): list sizes that disagree with the query count,
// indices outside [0, count), a target that is also excluded, tile sizes
// < 1, threads < 1, null data with a non-zero size.
std::vector<int64_t> rank_targets(const float* queries, const CandidateMatrix& candidates,
                                  const PerQueryLists& targets, const PerQueryLists* excluded,
                                  const TargetRankOptions& options, TargetRankTimes* times = nullptr);

}  // namespace tandem
