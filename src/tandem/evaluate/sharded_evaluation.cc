#include "tandem/evaluate/sharded_evaluation.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "tandem/core/blas.h"
#include "tandem/core/error.h"
#include "tandem/evaluate/sharded_ranking.h"

namespace tandem {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

EvalResult evaluate_sharded(MultiTaskModel& model, const ExperimentConfig& config,
                            const RetrievalCatalogue& catalogue, const Examples& test,
                            const std::vector<float>& test_ratings,
                            const std::function<void(int64_t done, int64_t total)>& on_progress,
                            const SeenItems* seen) {
  const auto start = std::chrono::steady_clock::now();
  TANDEM_CHECK(model.communicator() != nullptr && model.shard().sharded(),
               "evaluate_sharded: the model is not sharded over the ranks of a job");
  Communicator& comm = *model.communicator();
  EvalResult r = start_evaluation(config, catalogue, test, test_ratings, seen);
  const int64_t n = r.evaluated;
  // Sharded models read the id embeddings as they are (no towers, experts).
  const int64_t d = model.task_dim();
  const int threads = std::max(blas::threads(), 1);
  EvalPhaseTimes& times = r.phase_seconds;
  const int64_t item_rows = model.shape().item_rows;

  // One ranking per test user, over the catalogue, scored where its rows are.
  const std::vector<int64_t> index = catalogue.index_of_rows(item_rows);
  const ShardedCandidates on_ranks{&catalogue.rows, &model.item_table(), model.shard()};
  const TargetRanker ranker = [&](const float* queries, const PerQueryLists& targets, const PerQueryLists* excluded,
                                  TargetRankTimes* t) {
    return rank_targets_sharded(comm, queries, d, on_ranks, targets, excluded, threads, t);
  };
  const QueryGather gather = [&](const int32_t* rows, int64_t m, float* out) { model.fetch_rows(false, rows, m, out); };
  const CandidateMatrix shape_only{nullptr, static_cast<int64_t>(catalogue.size()), d};
  // As in evaluate(): the per-user ranks are the protocol's unless the
  // top-K candidates repeat rows (items keyed by title) with seen items kept.
  const bool one_pass = config.exclude_seen || catalogue.candidate_rows.empty();
  const UserRanking ranking =
      rank_test_users(gather, shape_only, index, test, test_ratings, config, config.exclude_seen ? seen : nullptr,
                      one_pass ? on_progress : std::function<void(int64_t, int64_t)>{}, threads, &times, ranker);
  fill_ranking_metrics(r, ranking, config);
  if (one_pass) {
    fill_accuracy(r, ranking.pair_ranks, config, test_ratings);
  } else {
    // One query per test pair against the candidate set (a row twice where
    // two items share it).
    auto phase_start = std::chrono::steady_clock::now();
    std::vector<float> queries(static_cast<size_t>(n * d));
    model.fetch_rows(false, test.users.data(), n, queries.data());
    const std::vector<int64_t> cindex = index_of_rows(catalogue.candidate_rows, item_rows);
    PerQueryLists positives;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t p = cindex[static_cast<size_t>(test.items[static_cast<size_t>(i)])];
      positives.add(&p, &p + (p >= 0 ? 1 : 0));
    }
    times.towers += seconds_since(phase_start);
    phase_start = std::chrono::steady_clock::now();
    const ShardedCandidates set{&catalogue.candidate_rows, &model.item_table(), model.shard()};
    TargetRankTimes kernel_times;
    const std::vector<int64_t> ranked =
        rank_targets_sharded(comm, queries.data(), d, set, positives, nullptr, threads, &kernel_times);
    times.add_kernel(kernel_times, seconds_since(phase_start));
    std::vector<int64_t> ranks(static_cast<size_t>(n), static_cast<int64_t>(catalogue.candidate_rows.size()));
    for (int64_t i = 0; i < n; ++i)
      if (positives.offsets[static_cast<size_t>(i) + 1] > positives.offsets[static_cast<size_t>(i)])
        ranks[static_cast<size_t>(i)] = ranked[static_cast<size_t>(positives.offsets[static_cast<size_t>(i)])];
    if (on_progress) on_progress(n, n);
    fill_accuracy(r, ranks, config, test_ratings);
  }

  // The heads on every test pair's rows, fetched from their owners.
  auto phase_start = std::chrono::steady_clock::now();
  std::vector<float> users(static_cast<size_t>(n * d)), items(users.size());
  model.fetch_rows(false, test.users.data(), n, users.data());
  model.fetch_rows(true, test.items.data(), n, items.data());
  std::vector<float> pred(static_cast<size_t>(n)), scratch;
  model.predict_from_vectors(users.data(), items.data(), n, pred.data(), scratch);
  fill_head_metrics(r, model, config, pred, test, test_ratings, [&](int e, float* out) {
    model.predict_extra_from_vectors(e, users.data(), items.data(), n, out, scratch);
  });
  times.metrics += seconds_since(phase_start);
  r.seconds = seconds_since(start);
  return r;
}

}  // namespace tandem
