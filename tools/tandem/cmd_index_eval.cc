// tandem index-eval: what approximate (HNSW) retrieval costs in recall and
// gains in latency against exact search, on a model's catalogue or on a
// synthetic one large enough for the difference to matter. The measurement
// is evaluate_index (index/index_eval.h); this file reads the options, builds
// the workload from a model file, and prints.
#include <cstdio>
#include <iostream>
#include <memory>
#include <utility>

#include "argument_error.h"
#include "commands.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/index/index_eval.h"

namespace tandem::cli {

namespace {

// Queries are the retrieval vectors of users seen in training (the users a
// recommender would actually serve); without training interactions in the
// file, every row but a lookup vocabulary's OOV row.
IndexWorkload from_model(const std::string& path) {
  const TrainedModel m = load_model(path);
  IndexWorkload w;
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
    TANDEM_ARGUMENT_CHECK(!o->model.empty() || o->synthetic_items > 0,
                          "index-eval: give --model FILE or --synthetic-items N");
    IndexWorkload w = o->model.empty()
                          ? synthetic_workload(o->synthetic_items, o->queries > 0 ? o->queries : 1000,
                                               o->dim, o->seed)
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
    IndexEvalOptions opt;
    opt.k = o->k;
    opt.hnsw.M = o->m;
    opt.hnsw.ef_construction = o->ef_construction;
    opt.hnsw.seed = o->seed;
    opt.ef_search = o->ef_search;
    const std::string source = w.source;
    const int64_t n_items = w.n_items, n_queries = w.n_queries, dim = w.dim;
    const IndexEvalResult r = evaluate_index(std::move(w), opt);

    if (!o->json) {
      std::printf("Catalogue: %lld items x %lld dims (%s); %lld queries, k = %lld, one thread\n",
                  static_cast<long long>(n_items), static_cast<long long>(dim), source.c_str(),
                  static_cast<long long>(n_queries), static_cast<long long>(o->k));
      std::printf("HNSW: M = %d, ef_construction = %d, built in %.3f s (exact: %.3f s)\n", opt.hnsw.M,
                  opt.hnsw.ef_construction, r.hnsw_build_seconds, r.exact_build_seconds);
      std::printf("exact search: median %.4f ms, p99 %.4f ms\n\n", r.exact_ms.median, r.exact_ms.p99);
      std::printf("%9s %10s %12s %12s %10s\n", "ef_search", "recall@k", "median ms", "p99 ms", "speed-up");
    }
    for (const IndexEvalPoint& pt : r.points) {
      if (o->json) {
        std::cout << nlohmann::json{{"source", source},
                                    {"items", n_items},
                                    {"dim", dim},
                                    {"queries", n_queries},
                                    {"k", o->k},
                                    {"hnsw", {{"M", opt.hnsw.M}, {"ef_construction", opt.hnsw.ef_construction},
                                              {"ef_search", pt.ef_search}, {"seed", opt.hnsw.seed}}},
                                    {"exact_build_seconds", r.exact_build_seconds},
                                    {"hnsw_build_seconds", r.hnsw_build_seconds},
                                    {"recall_at_k", pt.recall_at_k},
                                    {"exact_latency_ms", {{"median", r.exact_ms.median}, {"p99", r.exact_ms.p99}}},
                                    {"hnsw_latency_ms", {{"median", pt.hnsw_ms.median}, {"p99", pt.hnsw_ms.p99}}},
                                    {"speedup_median", pt.speedup_median}}
                         .dump()
                  << std::endl;
      } else {
        std::printf("%9d %10.4f %12.4f %12.4f %9.1fx\n", pt.ef_search, pt.recall_at_k, pt.hnsw_ms.median,
                    pt.hnsw_ms.p99, pt.speedup_median);
      }
    }
    return 0;
  };
}

}  // namespace tandem::cli
