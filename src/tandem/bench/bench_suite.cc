#include "tandem/bench/bench_suite.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "tandem/bench/benchmark.h"
#include "tandem/experiment/experiment.h"
#include "tandem/core/blas.h"
#include "tandem/core/memory_bandwidth.h"
#include "tandem/core/error.h"
#include "tandem/core/random.h"
#include "tandem/data/synthetic.h"
#include "tandem/evaluate/ranking_metrics.h"
#include "tandem/evaluate/topk.h"
#include "tandem/evaluate/user_ranking.h"
#include "tandem/model/retrieval_softmax_loss.h"
#include "tandem/model/row_dedup.h"
#include "tandem/train/step_traffic.h"
#include "tandem/train/trainer.h"

namespace tandem {

namespace {

double epoch_flops(const ModelShape& shape, int64_t examples, int64_t batch, const TaskWeights& w) {
  const int64_t full = examples / batch, rest = examples % batch;
  double f = static_cast<double>(full) * step_flops(shape, batch, w);
  if (rest > 0) f += step_flops(shape, rest, w);
  return f;
}

// Mean distinct users and items per batch of the training data in its stored
// order: the score-matrix shape of the distinct-rows retrieval kernel.
ScoreShape mean_distinct(const Examples& train, const ModelShape& shape, int64_t batch) {
  RowDedup users(shape.user_rows, batch), items(shape.item_rows, batch);
  double u = 0, v = 0, steps = 0;
  for (size_t s = 0; s + static_cast<size_t>(batch) <= train.size(); s += static_cast<size_t>(batch)) {
    users.assign(train.users.data() + s, batch);
    items.assign(train.items.data() + s, batch);
    u += static_cast<double>(users.distinct());
    v += static_cast<double>(items.distinct());
    steps += 1;
  }
  if (steps == 0) return {};
  return {static_cast<int64_t>(u / steps + 0.5), static_cast<int64_t>(v / steps + 0.5)};
}

// A run's step profile as JSON, with its memory traffic against `bandwidth`
// (GB/s; 0 = not measured).
nlohmann::json profile_json(const StepProfile& profile, const StepTraffic& traffic, double bandwidth) {
  nlohmann::json j = profile.to_json();
  const double per_step =
      profile.steps > 0 ? profile.step_seconds / static_cast<double>(profile.steps) : 0.0;
  j["memory_traffic"] = traffic.to_json(per_step, bandwidth);
  return j;
}

nlohmann::json eval_phases_json(const EvalPhaseTimes& t) {
  return {{"towers", t.towers}, {"scoring", t.scoring}, {"ranking", t.ranking}, {"metrics", t.metrics}};
}

void bench_training(const BenchOptions& o, const std::string& preset, double bandwidth,
                    const BenchSink& sink) {
  ExperimentConfig base = preset_config(preset);
  base.data_dir = o.data_dir;
  base.threads = o.threads;
  base.parallelism = parse_parallelism(o.parallelism);
  base.distinct_rows = o.distinct_rows;
  const PreparedData data = prepare_data(base);
  const int threads = effective_threads(base);
  const bool split = base.parallelism == Parallelism::kBatch && threads > 1;
  for (const auto& v : tutorial_variants()) {
    if (std::find(o.variants.begin(), o.variants.end(), v.name) == o.variants.end()) continue;
    ExperimentConfig c = base;
    c.weights = v.weights;
    ModelShape shape{data.users.rows(), data.items.rows(), c.embedding_dim, c.layer_sizes};
    // The model's FLOPs counted from its shapes (full batch x batch scores).
    const double flops = epoch_flops(shape, static_cast<int64_t>(data.train.size()), c.batch_size,
                                     c.weights);
    const ScoreShape scores =
        c.distinct_rows ? mean_distinct(data.train, shape, c.batch_size) : ScoreShape{};
    // The sgemm rate at the GEMM shapes training issues, issued the same way.
    const double gemm_rate = measure_gemm_rate(
        step_gemms(shape, c.batch_size, c.weights, split ? threads : 1, scores), 5);
    std::vector<double> epoch_seconds, train_seconds, performed_flops;
    std::vector<nlohmann::json> runs;
    double peak_rss = 0.0;
    for (int r = 0; r < o.repeats; ++r) {
      const nlohmann::json run = run_measured([&] {
        auto result = train_and_evaluate(c, data, v.name).second;
        nlohmann::json e = nlohmann::json::array(), entries = nlohmann::json::array();
        for (const auto& h : result.history) {
          e.push_back(h.seconds);
          entries.push_back(h.score_entries);
        }
        return nlohmann::json{{"epochs", e}, {"score_entries", entries},
                              {"train_seconds", result.train_seconds},
                              {"profile", profile_json(result.profile, result.traffic, bandwidth)},
                              {"eval_phase_seconds", eval_phases_json(result.eval.phase_seconds)}};
      });
      runs.push_back(run);
      for (double s : run["epochs"]) epoch_seconds.push_back(s);
      for (double e : run["score_entries"]) {
        // FLOPs actually performed: the model's, with the retrieval part
        // scaled from batch^2 score entries per step to those computed.
        const double b = static_cast<double>(c.batch_size);
        const double rest = static_cast<double>(data.train.size() % static_cast<size_t>(c.batch_size));
        const double full_entries =
            static_cast<double>(data.train.size() / static_cast<size_t>(c.batch_size)) * b * b +
            rest * rest;
        const double retrieval = c.weights.retrieval != 0.0f
                                     ? (6.0 * c.embedding_dim + 5.0) * (full_entries - e)
                                     : 0.0;
        performed_flops.push_back(flops - retrieval);
      }
      train_seconds.push_back(run["train_seconds"].get<double>());
      peak_rss = std::max(peak_rss, run["peak_rss_mb"].get<double>());
    }
    // The profile and evaluation phases of the run whose train_seconds is
    // the median (the upper median of an even count, as median() takes),
    // so that its phases add up to one run's time.
    std::vector<size_t> by_time(runs.size());
    for (size_t r = 0; r < runs.size(); ++r) by_time[r] = r;
    std::sort(by_time.begin(), by_time.end(), [&](size_t a, size_t b) {
      return train_seconds[a] < train_seconds[b];
    });
    const nlohmann::json& median_run = runs[by_time[by_time.size() / 2]];
    const double epoch = median(epoch_seconds);
    const double performed = median(performed_flops);
    const double achieved = performed / epoch / 1e9;
    sink({{"kind", "train"},
          {"preset", preset},
          {"model", v.name},
          {"threads", threads},
          {"parallelism", to_string(base.parallelism)},
          {"epochs", c.epochs},
          {"batch_size", c.batch_size},
          {"train_seconds_median", median(train_seconds)},
          {"epoch_seconds_median", epoch},
          {"examples_per_second", static_cast<double>(data.train.size()) / epoch},
          {"gflop_per_epoch", flops / 1e9},
          {"performed_gflop_per_epoch", performed / 1e9},
          {"distinct_rows", c.distinct_rows},
          {"mean_distinct_users_per_batch", scores.rows},
          {"mean_distinct_items_per_batch", scores.cols},
          {"achieved_gflops", achieved},
          {"sgemm_gflops_at_shapes", gemm_rate},
          {"fraction_of_sgemm", gemm_rate > 0 ? achieved / gemm_rate : 0.0},
          {"peak_rss_mb", peak_rss},
          {"repeats", o.repeats},
          {"profile", median_run["profile"]},
          {"eval_phase_seconds", median_run["eval_phase_seconds"]},
          {"profile_run", "the run with the median train_seconds"}});
  }
}

void bench_softmax_memory(const BenchOptions& o, const BenchSink& sink) {
  // The tfrs preset's batch: the full score matrix is 8192^2 floats.
  const int64_t n = 8192, d = 32;
  auto make = [&](uint64_t seed) {
    std::vector<float> v(static_cast<size_t>(n * d));
    Rng rng(seed);
    for (auto& x : v) x = rng.uniform(-0.05f, 0.05f);
    return v;
  };
  const int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto measure = [&](const std::string& kernel) {
    return run_measured([&] {
      std::vector<float> q = make(1), c = make(2), dq(q.size(), 0.0f), dc(q.size(), 0.0f);
      blas::set_threads(kernel == "reference" ? threads : 1);
      const auto t0 = std::chrono::steady_clock::now();
      double loss = 0.0;
      // The full n x n softmax, materialised whole (one block of all n rows,
      // the BLAS threaded) or a block of 256 rows per worker at a time.
      RetrievalBatch b;
      b.queries = q.data();
      b.items = c.data();
      b.dq = dq.data();
      b.dc = dc.data();
      b.n = n;
      b.d = d;
      if (kernel == "reference") {
        RetrievalSoftmaxLoss l(n, n, n, n, 1);
        l.prepare_batches(0, 0, d);
        loss = l.forward_backward(b, RetrievalLossOptions{}, 1.0f, false);
      } else if (kernel == "blocked") {
        ThreadPool pool(threads);
        RetrievalSoftmaxLoss l(n, n, n, 256, threads);
        l.prepare_batches(0, 0, d);
        loss = l.forward_backward(b, RetrievalLossOptions{}, 1.0f, false, &pool);
      }
      return nlohmann::json{{"loss", loss}, {"seconds", seconds_since(t0)}};
    });
  };
  const auto none = measure("inputs-only");
  const auto ref = measure("reference");
  const auto blocked = measure("blocked");
  sink({{"kind", "softmax_memory"},
        {"batch", n},
        {"dim", d},
        {"baseline_rss_mb", none["peak_rss_mb"]},
        {"reference_peak_rss_mb", ref["peak_rss_mb"]},
        {"blocked_peak_rss_mb", blocked["peak_rss_mb"]},
        {"reference_seconds", ref["seconds"]},
        {"blocked_seconds", blocked["seconds"]},
        {"loss_difference", std::fabs(ref["loss"].get<double>() - blocked["loss"].get<double>())}});
}

// The retrieval softmax's step (the full n x n plain softmax, 256-row blocks
// split between the threads as training does) with float32 and bfloat16
// score GEMMs, alternated so that load on the machine hits both alike; and
// the rates of the step's three GEMM shapes in each precision alone.
void bench_softmax_precision(const BenchOptions& o, const BenchSink& sink) {
  const int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const bool bf16 = blas::bf16_available();
  const int64_t block = 256;
  for (const auto& shape : {std::pair<int64_t, int64_t>{4096, 32}, {4096, 64}, {8192, 32}, {8192, 64}}) {
    // Named copies, not structured bindings: lambdas below capture them
    // (which clang 14 refuses for bindings).
    const int64_t n = shape.first, d = shape.second;
    std::vector<float> q(static_cast<size_t>(n * d)), c(q.size()), dq(q.size()), dc(q.size());
    Rng rng(static_cast<uint64_t>(n + d));
    for (auto& x : q) x = rng.uniform(-0.5f, 0.5f);
    for (auto& x : c) x = rng.uniform(-0.5f, 0.5f);
    blas::set_threads(1);
    ThreadPool pool(threads);
    RetrievalSoftmaxLoss f32(n, n, n, block, threads), b16(n, n, n, block, threads);
    f32.prepare_batches(0, 0, d);
    b16.prepare_batches(0, 0, d);
    if (bf16) b16.set_precision(blas::GemmPrecision::kBfloat16);
    auto step = [&](RetrievalSoftmaxLoss& l, double& loss) {
      RetrievalBatch b;
      b.queries = q.data();
      b.items = c.data();
      b.dq = dq.data();
      b.dc = dc.data();
      b.n = n;
      b.d = d;
      const auto t0 = std::chrono::steady_clock::now();
      loss = l.forward_backward(b, RetrievalLossOptions{}, 1.0f / static_cast<float>(n), false,
                                threads > 1 ? &pool : nullptr);
      return seconds_since(t0);
    };
    double loss32 = 0.0, loss16 = 0.0;
    std::vector<double> t32, t16;
    step(f32, loss32);  // warm-up
    if (bf16) step(b16, loss16);
    for (int r = 0; r < std::max(3, o.repeats); ++r) {
      t32.push_back(step(f32, loss32));
      if (bf16) t16.push_back(step(b16, loss16));
    }
    // The step's GEMMs per block of rows, one block per worker at a time.
    std::vector<GemmCall> per_block = {{block, n, d, false, true},
                                       {block, d, n, false, false},
                                       {n, d, block, true, false}};
    std::vector<std::vector<GemmCall>> calls(static_cast<size_t>(threads), per_block);
    const double gemm_flops = 6.0 * static_cast<double>(n) * n * d;
    const double s32 = median(t32);
    const double sgemm_rate = measure_gemm_rate(calls, 3);
    nlohmann::json row = {{"kind", "softmax_precision"},
                          {"batch", n},
                          {"dim", d},
                          {"threads", threads},
                          {"repeats", t32.size()},
                          {"gemm_gflop_per_step", gemm_flops / 1e9},
                          {"float32_seconds", s32},
                          {"float32_gemm_gflops_achieved", gemm_flops / s32 / 1e9},
                          {"sgemm_gflops_at_shapes", sgemm_rate},
                          {"float32_loss", loss32},
                          {"bf16_available", bf16}};
    if (bf16) {
      const double s16 = median(t16);
      const double sbgemm_rate = measure_gemm_rate(calls, 3, blas::GemmPrecision::kBfloat16);
      row["bfloat16_seconds"] = s16;
      row["bfloat16_gemm_gflops_achieved"] = gemm_flops / s16 / 1e9;
      row["sbgemm_gflops_at_shapes"] = sbgemm_rate;
      row["bfloat16_loss"] = loss16;
      row["speedup"] = s32 / s16;
    }
    sink(row);
  }
}

void bench_evaluation(const BenchOptions& o, const BenchSink& sink) {
  const int64_t items = 1682, queries = 20000, d = 32;
  Rng rng(3);
  std::vector<float> cand(static_cast<size_t>(items * d)), q(static_cast<size_t>(queries * d));
  for (auto& x : cand) x = rng.uniform(-1, 1);
  for (auto& x : q) x = rng.uniform(-1, 1);
  std::vector<int64_t> pos(static_cast<size_t>(queries));
  for (auto& p : pos) p = static_cast<int64_t>(rng.below(items));
  const int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  blas::set_threads(threads);
  const CandidateMatrix cm{cand.data(), items, d};
  // The per-user ranking metrics' shape: MovieLens-100K's 943 test users,
  // the 20,000 positives spread over them, each user's first 80 items
  // (about its share of the training pairs) excluded as seen.
  const int64_t users = 943;
  std::vector<std::vector<int64_t>> relevant(static_cast<size_t>(users)), seen(static_cast<size_t>(users));
  for (int64_t i = 0; i < queries; ++i) relevant[static_cast<size_t>(i % users)].push_back(pos[static_cast<size_t>(i)]);
  for (auto& s : seen)
    for (int64_t j = 0; j < 80; ++j) s.push_back(static_cast<int64_t>(rng.below(items)));
  // The same users through the evaluation's per-user ranking
  // (rank_test_users, as evaluate() calls it) for its phases: towers (here
  // a copy of each user's query row), scoring and ranking (the fused
  // kernel's split), metrics (Recall/NDCG/MAP/MRR from the ranks).
  Examples test;
  for (int64_t i = 0; i < queries; ++i) {
    test.users.push_back(static_cast<int32_t>(i % users));
    test.items.push_back(static_cast<int32_t>(pos[static_cast<size_t>(i)]));
    test.labels.push_back(1.0f);
  }
  const std::vector<float> test_ratings(static_cast<size_t>(queries), 5.0f);
  SeenItems seen_items;
  seen_items.offsets.push_back(0);
  for (const auto& s : seen) {
    for (int64_t item : s) seen_items.items.push_back(static_cast<int32_t>(item));
    seen_items.offsets.push_back(static_cast<int64_t>(seen_items.items.size()));
  }
  std::vector<int64_t> catalogue_index(static_cast<size_t>(items));
  for (int64_t i = 0; i < items; ++i) catalogue_index[static_cast<size_t>(i)] = i;
  ExperimentConfig eval_config;
  eval_config.exclude_seen = true;
  const QueryGather gather = [&](const int32_t* rows, int64_t m, float* out) {
    for (int64_t r = 0; r < m; ++r)
      std::copy_n(q.data() + static_cast<int64_t>(rows[r]) * d, d, out + r * d);
  };
  std::vector<double> towers_t, scoring_t, ranking_t, metrics_t;
  std::vector<double> rank_t, topk_t, user_t;
  for (int r = 0; r < 5; ++r) {
    EvalPhaseTimes phases;
    rank_test_users(gather, cm, catalogue_index, test, test_ratings, eval_config, &seen_items, {}, threads,
                    &phases);
    towers_t.push_back(phases.towers);
    scoring_t.push_back(phases.scoring);
    ranking_t.push_back(phases.ranking);
    auto t0 = std::chrono::steady_clock::now();
    const auto ranks = positive_ranks(q.data(), queries, cm, pos.data());
    rank_t.push_back(seconds_since(t0));
    t0 = std::chrono::steady_clock::now();
    const auto top = top_k(q.data(), queries, cm, 10);
    topk_t.push_back(seconds_since(t0));
    t0 = std::chrono::steady_clock::now();
    const auto per_user = relevant_ranks(q.data(), users, cm, relevant, &seen);
    user_t.push_back(seconds_since(t0));
    // The metrics phase: Recall/NDCG/MAP/MRR from these ranks at each K.
    t0 = std::chrono::steady_clock::now();
    for (int64_t k : eval_config.metrics_at) ranking_metrics_from_ranks(per_user, k);
    metrics_t.push_back(seconds_since(t0));
  }
  sink({{"kind", "evaluation"},
        {"catalogue", items},
        {"dim", d},
        {"queries", queries},
        {"threads", threads},
        {"factorized_topk_queries_per_second", static_cast<double>(queries) / median(rank_t)},
        {"top10_queries_per_second", static_cast<double>(queries) / median(topk_t)},
        {"ranking_users", users},
        {"user_ranking_seconds", median(user_t)},
        {"eval_phase_seconds",
         {{"towers", median(towers_t)}, {"scoring", median(scoring_t)}, {"ranking", median(ranking_t)},
          {"metrics", median(metrics_t)}}},
        {"eval_phases_of", "rank_test_users on the same users, seen items excluded; metrics from the per-user ranks (medians of 5)"},
        {"gflop_per_pass", 2.0 * queries * items * d / 1e9}});
}

// Current resident memory of this process (Linux /proc/self/statm).
double resident_mb() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

void bench_scaling(const BenchOptions& o, const std::string& spec_text, int run_threads, double bandwidth,
                   const BenchSink& sink) {
  SyntheticSpec spec;
  long long n = 0, u = 0, i = 0;
  TANDEM_CHECK(std::sscanf(spec_text.c_str(), "%lld:%lld:%lld", &n, &u, &i) == 3,
               "bench: scaling spec '" << spec_text << "' is not interactions:users:items");
  spec.interactions = n;
  spec.users = u;
  spec.items = i;
  const nlohmann::json row = run_measured([&] {
    auto t0 = std::chrono::steady_clock::now();
    Examples ex;
    double gen = 0.0;
    {
      // The raw log is freed before training: training holds only the
      // encoded examples (12 bytes each), the tables and one batch.
      const Ratings r = generate_synthetic(spec);
      gen = seconds_since(t0);
      ex.users.resize(r.size());
      ex.items.resize(r.size());
      ex.labels.resize(r.size());
      for (size_t k = 0; k < r.size(); ++k) {
        ex.users[k] = static_cast<int32_t>(r.users[k]);
        ex.items[k] = static_cast<int32_t>(r.items[k]);
        ex.labels[k] = (r.ratings[k] - 1.0f) / 4.0f;
      }
    }
    ExperimentConfig c = preset_config("kerasrs");
    c.threads = run_threads;
    const int threads = effective_threads(c);
    blas::set_threads(threads > 1 ? 1 : threads);
    ModelShape shape{u + 1, i + 1, c.embedding_dim, c.layer_sizes};
    MultiTaskModel model(shape, o.scaling_batch, threads);
    model.init(1);
    TrainConfig tc;
    tc.batch_size = o.scaling_batch;
    tc.epochs = 1;
    tc.workers = threads;
    Trainer trainer(model, tc);
    const EpochStats e = trainer.run_epoch(ex);
    const double table_mb =
        static_cast<double>(model.user_table().weights.size() + model.item_table().weights.size()) *
        4.0 * 2.0 / (1024.0 * 1024.0);  // weights + Adagrad accumulators
    return nlohmann::json{{"generate_seconds", gen},
                          {"rss_after_epoch_mb", resident_mb()},
                          {"epoch_seconds", e.seconds},
                          {"examples_per_second", static_cast<double>(n) / e.seconds},
                          {"tables_and_accumulators_mb", table_mb},
                          {"examples_mb", static_cast<double>(n) * 12.0 / (1024.0 * 1024.0)},
                          {"ratings_mb", static_cast<double>(n) * 28.0 / (1024.0 * 1024.0)},
                          {"final_ranking_loss", e.ranking_loss},
                          {"final_retrieval_loss", e.retrieval_loss},
                          {"threads", threads},
                          {"profile", profile_json(trainer.profile(),
                                                   estimate_step_traffic(traffic_shape(trainer, o.scaling_batch)),
                                                   bandwidth)}};
  });
  nlohmann::json out = row;
  out["kind"] = "scaling";
  out["interactions"] = n;
  out["users"] = u;
  out["items"] = i;
  out["batch_size"] = o.scaling_batch;
  sink(out);
}

}  // namespace

void run_bench(const BenchOptions& o, const BenchSink& sink) {
  const int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // STREAM-like copy and triad over arrays larger than the last-level
  // cache; the triad on the runs' threads is what the steps' estimated
  // traffic is compared with.
  const MemoryBandwidth bw_all = measure_memory_bandwidth(threads, o.bandwidth_array_bytes);
  const MemoryBandwidth bw_one =
      threads == 1 ? bw_all : measure_memory_bandwidth(1, o.bandwidth_array_bytes);
  sink({{"kind", "machine"},
        {"blas_core", blas::core_name()},
        {"threads", threads},
        {"sgemm_2048_gflops_all_threads", measure_square_sgemm(2048, threads, 3)},
        {"sgemm_2048_gflops_one_thread", measure_square_sgemm(2048, 1, 3)},
        {"memory_bandwidth_all_threads", bw_all.to_json()},
        {"memory_bandwidth_one_thread", bw_one.to_json()}});
  const auto bandwidth_at = [&](int t) {
    return t == 1 ? bw_one.triad_gbs
                  : t == threads ? bw_all.triad_gbs
                                 : measure_memory_bandwidth(t, o.bandwidth_array_bytes).triad_gbs;
  };
  if (o.training)
    for (const auto& p : o.presets) bench_training(o, p, bw_all.triad_gbs, sink);
  if (o.softmax_memory) bench_softmax_memory(o, sink);
  if (o.softmax_precision) bench_softmax_precision(o, sink);
  if (o.evaluation) bench_evaluation(o, sink);
  std::vector<int> scaling_threads = o.scaling_threads;
  if (scaling_threads.empty()) scaling_threads = {threads};
  for (const auto& s : o.scaling)
    for (int t : scaling_threads) bench_scaling(o, s, t, bandwidth_at(t), sink);
}

}  // namespace tandem
