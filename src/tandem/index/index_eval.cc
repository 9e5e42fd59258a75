#include "tandem/index/index_eval.h"

#include <algorithm>
#include <chrono>

#include "tandem/core/error.h"
#include "tandem/core/random.h"

namespace tandem {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Nearest-rank quantile of a sample (sorted in place).
double quantile(std::vector<double>& v, double q) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<size_t>(std::min<double>(static_cast<double>(v.size() - 1),
                                                      q * static_cast<double>(v.size())));
  return v[i];
}

LatencyMs latency(std::vector<double>& ms) { return {quantile(ms, 0.5), quantile(ms, 0.99)}; }

}  // namespace

IndexWorkload synthetic_workload(int64_t n_items, int64_t n_queries, int64_t dim, uint64_t seed) {
  TANDEM_CHECK(n_items > 0 && n_queries > 0 && dim > 0,
               "synthetic index workload: sizes must be positive, got " << n_items << " items, "
                                                                        << n_queries << " queries, dim "
                                                                        << dim);
  IndexWorkload w;
  w.source = "synthetic";
  w.n_items = n_items;
  w.n_queries = n_queries;
  w.dim = dim;
  // Separate streams, so the catalogue does not change with the query count.
  Rng item_rng(derive_seed(seed, 1)), query_rng(derive_seed(seed, 2));
  w.items.resize(static_cast<size_t>(n_items * dim));
  for (auto& v : w.items) v = item_rng.uniform(-1.0f, 1.0f);
  w.queries.resize(static_cast<size_t>(n_queries * dim));
  for (auto& v : w.queries) v = query_rng.uniform(-1.0f, 1.0f);
  return w;
}

IndexEvalResult evaluate_index(IndexWorkload w, const IndexEvalOptions& options) {
  TANDEM_CHECK(w.n_items > 0 && w.n_queries > 0 && w.dim > 0,
               "index evaluation: nothing to measure (" << w.n_items << " items, " << w.n_queries
                                                        << " queries, dim " << w.dim << ")");
  TANDEM_CHECK(static_cast<int64_t>(w.items.size()) == w.n_items * w.dim &&
                   static_cast<int64_t>(w.queries.size()) == w.n_queries * w.dim,
               "index evaluation: " << w.items.size() << " item floats and " << w.queries.size()
                                    << " query floats do not match " << w.n_items << " items, "
                                    << w.n_queries << " queries of dim " << w.dim);
  TANDEM_CHECK(options.k >= 1, "index evaluation: k must be positive, got " << options.k);
  TANDEM_CHECK(!options.ef_search.empty(), "index evaluation: no ef_search value to measure");
  IndexEvalResult r;
  auto t0 = Clock::now();
  const ExactIndex exact(w.items.data(), w.n_items, w.dim);
  r.exact_build_seconds = seconds_since(t0);
  HnswParams p = options.hnsw;
  p.ef_search = options.ef_search.front();
  t0 = Clock::now();
  const HnswIndex hnsw(w.items.data(), w.n_items, w.dim, p);
  r.hnsw_build_seconds = seconds_since(t0);
  w.items.clear();  // both indexes hold their own copy
  w.items.shrink_to_fit();

  // Exact answers and latencies once; each depth is then timed against them.
  std::vector<double> exact_ms;
  std::vector<std::vector<int64_t>> truth(static_cast<size_t>(w.n_queries));
  for (int64_t q = 0; q < w.n_queries; ++q) {
    const float* query = w.queries.data() + q * w.dim;
    t0 = Clock::now();
    const auto top = exact.search(query, options.k);
    exact_ms.push_back(seconds_since(t0) * 1e3);
    auto& ids = truth[static_cast<size_t>(q)];
    for (const auto& t : top) ids.push_back(t.index);
    std::sort(ids.begin(), ids.end());
  }
  r.exact_ms = latency(exact_ms);

  for (const int ef : options.ef_search) {
    std::vector<double> hnsw_ms;
    double recall_sum = 0.0;
    for (int64_t q = 0; q < w.n_queries; ++q) {
      const float* query = w.queries.data() + q * w.dim;
      t0 = Clock::now();
      const auto got = hnsw.search_with_ef(query, options.k, ef);
      hnsw_ms.push_back(seconds_since(t0) * 1e3);
      const auto& ids = truth[static_cast<size_t>(q)];
      int64_t hits = 0;
      for (const auto& g : got) hits += std::binary_search(ids.begin(), ids.end(), g.index);
      recall_sum += static_cast<double>(hits) / static_cast<double>(ids.size());
    }
    IndexEvalPoint point;
    point.ef_search = ef;
    point.recall_at_k = recall_sum / static_cast<double>(w.n_queries);
    point.hnsw_ms = latency(hnsw_ms);
    point.speedup_median = r.exact_ms.median / point.hnsw_ms.median;
    r.points.push_back(point);
  }
  return r;
}

}  // namespace tandem
