// Exact top-K over a whole catalogue by brute force, in blocks: scores for a
// block of queries against every candidate come from one GEMM, and each
// query's k best are selected with a reservoir of 2k (topk.cc). Memory is
// O(block x candidates), never queries x candidates.
#pragma once

#include <cstdint>
#include <vector>

namespace tandem {

struct ScoredItem {
  int64_t index;  // index of the candidate (row of `candidates`)
  float score;
};

struct CandidateMatrix {
  const float* data = nullptr;  // [count, dim], row-major
  int64_t count = 0;
  int64_t dim = 0;
};

// For each of `n_queries` query vectors ([n_queries, dim], row-major), the k
// highest-scoring candidates by dot product, best first; ties broken by lower
// candidate index. k is clamped to the candidate count. `excluded`, if not
// null, has one list per query of candidate indices to skip (e.g. seen items).
// Errors (tandem::Error): k <= 0; excluded->size() != n_queries; negative
// sizes; null data with a non-zero size. Out-of-range indices in an exclusion
// list are ignored and duplicates are harmless; a list holds fewer than k
// items when exclusions leave fewer than k candidates. count == 0 gives empty
// lists.
// NaN scores rank after every number (even -inf), lower index first among
// NaNs: a NaN is returned only when fewer than k real scores are available.
std::vector<std::vector<ScoredItem>> top_k(
    const float* queries, int64_t n_queries, const CandidateMatrix& candidates, int64_t k,
    const std::vector<std::vector<int64_t>>* excluded = nullptr);

// Rank of each query's positive candidate: the number of candidates that score
// strictly higher than it (so ties count in its favour, like TFRS in_top_k).
// The positive's score is read from the same GEMM output as the others'.
// positives[i] is a candidate index, or -1 when query i's positive is not in
// the catalogue: its rank is then reported as `candidates.count` (never a hit).
// Any other value outside [-1, count) is a tandem::Error naming the query and
// the value. NaN: a positive scoring NaN gets rank `count` (never a hit); NaN
// candidates never count as scoring higher than the positive.
// Computed by rank_targets (tiled_ranking.h) on blas::threads() workers.
std::vector<int64_t> positive_ranks(const float* queries, int64_t n_queries,
                                    const CandidateMatrix& candidates,
                                    const int64_t* positives);

}  // namespace tandem
