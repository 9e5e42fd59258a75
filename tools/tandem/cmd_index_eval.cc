// tandem index-eval: what approximate (HNSW) retrieval costs in recall and
// gains in latency against exact search, on a model's catalogue or on a
// synthetic one large enough for the difference to matter.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "commands.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/core/random.h"
#include "tandem/index/item_index.h"

namespace tandem::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Nearest-rank quantile of a sample (sorted in place).
double quantile(std::vector<double>& v, double q) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<size_t>(std::min<double>(v.size() - 1, q * static_cast<double>(v.size())));
  return v[i];
}

struct Workload {
  std::string source;
  std::vector<float> items, queries;
  int64_t n_items = 0, n_queries = 0, dim = 0;
};

// Queries are the retrieval vectors of users seen in training (the users a
// recommender would actually serve); without training interactions in the
// file, every row but a lookup vocabulary's OOV row.
Workload from_model(const std::string& path) {
  const TrainedModel m = load_model(path);
  Workload w;
  w.source = path;
  w.dim = m.model->task_dim();
  w.items = m.catalogue_embeddings();
  w.n_items = static_cast<int64_t>(m.catalogue.size());
  std::vector<int32_t> rows;
  const int64_t user_rows = m.users.rows();
  const bool have_seen = static_cast<int64_t>(m.seen_offsets.size()) == user_rows + 1;
  for (int64_t r = 0; r < user_rows; ++r) {
    if (have_seen ? m.seen_offsets[r + 1] > m.seen_offsets[r]
                  : !(m.users.has_oov() && r == Vocabulary::kOovRow)) {
      rows.push_back(static_cast<int32_t>(r));
    }
  }
  w.n_queries = static_cast<int64_t>(rows.size());
  w.queries.resize(rows.size() * static_cast<size_t>(w.dim));
  std::vector<float> scratch;
  m.model->user_vectors(Task::kRetrieval, rows.data(), w.n_queries, w.queries.data(), scratch);
  return w;
}

Workload synthetic(int64_t n_items, int64_t n_queries, int64_t dim, uint64_t seed) {
  Workload w;
  w.source = "synthetic";
  w.n_items = n_items;
  w.n_queries = n_queries;
  w.dim = dim;
  // Separate streams, so the catalogue does not change with --queries.
  Rng item_rng(derive_seed(seed, 1)), query_rng(derive_seed(seed, 2));
  w.items.resize(static_cast<size_t>(n_items * dim));
  for (auto& v : w.items) v = item_rng.uniform(-1.0f, 1.0f);
  w.queries.resize(static_cast<size_t>(n_queries * dim));
  for (auto& v : w.queries) v = query_rng.uniform(-1.0f, 1.0f);
  return w;
}

}  // namespace

Action add_index_eval(CLI::App& app) {
  struct Options {
    std::string model;
    int64_t k = 10;
    int64_t queries = 0;  // 0: every known user of a model, 1000 synthetic ones
    std::vector<int> ef_search{100};
    int m = 16, ef_construction = 200;
    int64_t synthetic_items = 0;
    int64_t dim = 32;
    uint64_t seed = 100;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* model = app.add_option("--model,-m", o->model, "Model file: its catalogue, its users as queries");
  auto* synth = app.add_option("--synthetic-items", o->synthetic_items,
                               "Random catalogue of N items instead of a model")
                    ->check(CLI::Range(int64_t{1}, int64_t{1} << 31));
  model->excludes(synth);
  synth->excludes(model);
  app.add_option("--k", o->k, "Items per query")->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--queries", o->queries,
                 "Queries to time (default: every known user of --model; 1000 synthetic)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 31));
  app.add_option("--ef-search", o->ef_search,
                 "HNSW search depth; several (e.g. 50,100,400) measure each over one built graph")
      ->capture_default_str()
      ->delimiter(',')
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--m", o->m, "HNSW graph degree")->capture_default_str()->check(CLI::Range(2, 1024));
  app.add_option("--ef-construction", o->ef_construction, "HNSW build depth")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--dim", o->dim, "Synthetic embedding dimension")->capture_default_str()->check(CLI::Range(1, 4096));
  app.add_option("--seed", o->seed, "Synthetic data and HNSW level seed")->capture_default_str();
  app.add_flag("--json", o->json, "One JSON object on stdout");
  return [o] {
    TANDEM_CHECK(!o->model.empty() || o->synthetic_items > 0,
                 "index-eval: give --model FILE or --synthetic-items N");
    Workload w = o->model.empty() ? synthetic(o->synthetic_items, o->queries > 0 ? o->queries : 1000, o->dim, o->seed)
                                  : from_model(o->model);
    // Keep the first --queries users: the user table's order is the id order,
    // so this is a fixed, reproducible subset.
    if (o->queries > 0 && w.n_queries > o->queries) {
      w.n_queries = o->queries;
      w.queries.resize(static_cast<size_t>(w.n_queries * w.dim));
    }
    TANDEM_CHECK(w.n_items > 0 && w.n_queries > 0,
                 "index-eval: nothing to measure (" << w.n_items << " items, " << w.n_queries
                                                    << " queries)");
    // Latency is per query on one thread for both indexes; a multi-threaded
    // BLAS would flatter the exact search with cores HNSW does not use.
    blas::set_threads(1);

    auto t0 = Clock::now();
    const ExactIndex exact(w.items.data(), w.n_items, w.dim);
    const double exact_build = seconds_since(t0);
    HnswParams p;
    p.M = o->m;
    p.ef_construction = o->ef_construction;
    p.ef_search = o->ef_search.front();
    p.seed = o->seed;
    t0 = Clock::now();
    const HnswIndex hnsw(w.items.data(), w.n_items, w.dim, p);
    const double hnsw_build = seconds_since(t0);
    w.items.clear();  // both indexes hold their own copy
    w.items.shrink_to_fit();

    // Exact answers and latencies once; each depth is then timed against them.
    std::vector<double> exact_ms;
    std::vector<std::vector<int64_t>> truth(static_cast<size_t>(w.n_queries));
    for (int64_t q = 0; q < w.n_queries; ++q) {
      const float* query = w.queries.data() + q * w.dim;
      t0 = Clock::now();
      const auto top = exact.search(query, o->k);
      exact_ms.push_back(seconds_since(t0) * 1e3);
      for (const auto& t : top) truth[static_cast<size_t>(q)].push_back(t.index);
      std::sort(truth[static_cast<size_t>(q)].begin(), truth[static_cast<size_t>(q)].end());
    }
    const double exact_p50 = quantile(exact_ms, 0.5), exact_p99 = quantile(exact_ms, 0.99);

    if (!o->json) {
      std::printf("Catalogue: %lld items x %lld dims (%s); %lld queries, k = %lld, one thread\n",
                  static_cast<long long>(w.n_items), static_cast<long long>(w.dim), w.source.c_str(),
                  static_cast<long long>(w.n_queries), static_cast<long long>(o->k));
      std::printf("HNSW: M = %d, ef_construction = %d, built in %.3f s (exact: %.3f s)\n", p.M,
                  p.ef_construction, hnsw_build, exact_build);
      std::printf("exact search: median %.4f ms, p99 %.4f ms\n\n", exact_p50, exact_p99);
      std::printf("%9s %10s %12s %12s %10s\n", "ef_search", "recall@k", "median ms", "p99 ms", "speed-up");
    }
    for (const int ef : o->ef_search) {
      std::vector<double> hnsw_ms;
      double recall_sum = 0.0;
      for (int64_t q = 0; q < w.n_queries; ++q) {
        const float* query = w.queries.data() + q * w.dim;
        t0 = Clock::now();
        const auto got = hnsw.search_with_ef(query, o->k, ef);
        hnsw_ms.push_back(seconds_since(t0) * 1e3);
        const auto& ids = truth[static_cast<size_t>(q)];
        int64_t hits = 0;
        for (const auto& g : got) hits += std::binary_search(ids.begin(), ids.end(), g.index);
        recall_sum += static_cast<double>(hits) / static_cast<double>(ids.size());
      }
      const double recall = recall_sum / static_cast<double>(w.n_queries);
      const double hnsw_p50 = quantile(hnsw_ms, 0.5), hnsw_p99 = quantile(hnsw_ms, 0.99);
      const double speedup = exact_p50 / hnsw_p50;
      if (o->json) {
        std::cout << nlohmann::json{{"source", w.source},
                                    {"items", w.n_items},
                                    {"dim", w.dim},
                                    {"queries", w.n_queries},
                                    {"k", o->k},
                                    {"hnsw", {{"M", p.M}, {"ef_construction", p.ef_construction},
                                              {"ef_search", ef}, {"seed", p.seed}}},
                                    {"exact_build_seconds", exact_build},
                                    {"hnsw_build_seconds", hnsw_build},
                                    {"recall_at_k", recall},
                                    {"exact_latency_ms", {{"median", exact_p50}, {"p99", exact_p99}}},
                                    {"hnsw_latency_ms", {{"median", hnsw_p50}, {"p99", hnsw_p99}}},
                                    {"speedup_median", speedup}}
                         .dump()
                  << std::endl;
      } else {
        std::printf("%9d %10.4f %12.4f %12.4f %9.1fx\n", ef, recall, hnsw_p50, hnsw_p99, speedup);
      }
    }
    return 0;
  };
}

}  // namespace tandem::cli
