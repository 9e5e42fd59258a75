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
// turn a tie into a loss). Done in one sweep: before it, each target's score
// is bounded by an interval [lo, hi] (its dot product in double +- the
// error bound of any float summation, gamma_dim * sum |x_k y_k|); during it,
// a candidate above hi is counted as above the target, one below lo is not,
// and the rare one inside the interval (a near or exact tie) is kept with
// its score; the target's own score is read from its tile, and the kept
// candidates are settled against it at the end. Queries whose scores cannot
// be bounded (non-finite values, dimension 0) or whose kept candidates grow
// too many (scores bunched within rounding error) take two sweeps instead:
// the item tiles holding the targets first (their scores read), then every
// tile again, scored by the identical call.
// Ordering the queries by their lowest target keeps a block's targets in few
// tiles (which bounds the two-sweep path's extra tiles).
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
// were chosen by measurement (docs/performance.md): of 128-1024 x
// 1024-4096, 256 x 2048 floats (2 MiB per thread) and larger ran fastest on
// the 2-core EPYC development machine with dimension 32; smaller tiles lose
// to the sgemm's per-call packing.
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
