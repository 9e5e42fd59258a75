// What approximate (HNSW) retrieval costs in recall and gains in latency
// against exact search, over a catalogue and a set of queries: the
// measurement behind `tandem index-eval`, as a library function so that it is
// tested and reused apart from the command that prints it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tandem/index/item_index.h"

namespace tandem {

// A catalogue to index and the queries to search it with, both row-major.
struct IndexWorkload {
  std::string source;          // what the vectors are (a model file, "synthetic")
  std::vector<float> items;    // [n_items, dim]
  std::vector<float> queries;  // [n_queries, dim]
  int64_t n_items = 0, n_queries = 0, dim = 0;
};

// A uniform [-1, 1) catalogue and queries; the catalogue does not change with
// n_queries (separate seeded streams).
IndexWorkload synthetic_workload(int64_t n_items, int64_t n_queries, int64_t dim, uint64_t seed);

struct IndexEvalOptions {
  int64_t k = 10;
  // HNSW build parameters; its ef_search is ignored in favour of the list.
  HnswParams hnsw;
  // Search depths, each measured over the one built graph.
  std::vector<int> ef_search{100};
};

struct LatencyMs {
  double median = 0.0, p99 = 0.0;
};

struct IndexEvalPoint {
  int ef_search = 0;
  double recall_at_k = 0.0;  // mean over queries of |hnsw top-k ∩ exact top-k| / k
  LatencyMs hnsw_ms;
  double speedup_median = 0.0;  // exact median / hnsw median
};

struct IndexEvalResult {
  double exact_build_seconds = 0.0, hnsw_build_seconds = 0.0;
  LatencyMs exact_ms;
  std::vector<IndexEvalPoint> points;  // one per options.ef_search, in order
};

// Builds an ExactIndex and an HnswIndex over the workload's items, searches
// every query with both (one query at a time on the calling thread) and
// returns the build times, per-query latency quantiles (nearest rank) and
// HNSW's recall against the exact answers. Recall is deterministic for a
// given workload and options; the timings are not. Errors (tandem::Error):
// an empty workload, mismatched sizes, k < 1, an empty ef_search list. A k
// above the catalogue size measures the whole catalogue. Takes the workload
// by value: its items are released once both indexes hold their own copy
// (move a large one in).
IndexEvalResult evaluate_index(IndexWorkload workload, const IndexEvalOptions& options);

}  // namespace tandem
