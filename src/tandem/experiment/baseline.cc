#include "tandem/experiment/baseline.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "tandem/core/error.h"
#include "tandem/evaluate/metrics.h"
#include "tandem/evaluate/user_ranking.h"
#include "tandem/evaluate/topk.h"

namespace tandem {

RunResult evaluate_popularity(const ExperimentConfig& config, const PreparedData& data) {
  const auto start = std::chrono::steady_clock::now();
  const auto n = static_cast<int64_t>(data.test.size());
  TANDEM_CHECK(n > 0, "no test pairs to evaluate the popularity baseline on");
  TANDEM_CHECK(!data.train.labels.empty(), "no training pairs to count popularity from");
  std::vector<int64_t> count(static_cast<size_t>(data.items.rows()), 0);
  for (int32_t item : data.train.items) count[static_cast<size_t>(item)] += 1;

  // Popularity as a one-dimensional retrieval score: every query is [1] and
  // every candidate [its training count], so the shared blocked ranking code
  // (and its tie rule) applies unchanged.
  const auto& cat = data.catalogue;
  std::vector<float> cand(cat.size());
  for (size_t c = 0; c < cat.size(); ++c) cand[c] = static_cast<float>(count[static_cast<size_t>(cat.rows[c])]);
  const std::vector<int64_t> index = cat.index_of_rows(data.items.rows());
  const CandidateMatrix cm{cand.data(), static_cast<int64_t>(cand.size()), 1};

  // The per-user protocol of evaluate(): same relevant items, same exclusions.
  const SeenItems seen = config.exclude_seen ? seen_items_from(data.train, data.users.rows()) : SeenItems{};
  const QueryGather ones = [](const int32_t*, int64_t m, float* out) { std::fill(out, out + m, 1.0f); };
  const UserRanking ranking = rank_test_users(ones, cm, index, data.test, data.test_ratings, config,
                                              config.exclude_seen ? &seen : nullptr);
  std::vector<int64_t> ranks;
  if (config.exclude_seen) {
    ranks = ranking.pair_ranks;
  } else {
    // The accuracy's candidate set, as evaluate() takes it (rows repeated
    // where items share one).
    const CandidateSet all = candidate_set(cat, cand, 1, data.items.rows());
    std::vector<float> queries(static_cast<size_t>(n), 1.0f);
    std::vector<int64_t> positives(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) positives[static_cast<size_t>(i)] = all.index[static_cast<size_t>(data.test.items[static_cast<size_t>(i)])];
    ranks = positive_ranks(queries.data(), n, all.matrix, positives.data());
  }

  RunResult r;
  r.model = "popularity";
  r.config = config;
  r.coverage = data.coverage;
  r.eval.evaluated = n;
  r.eval.catalogue_items = static_cast<int64_t>(cat.size());
  r.eval.candidates = static_cast<int64_t>(cat.candidates().size());
  fill_accuracy(r.eval, ranks, config, data.test_ratings);
  fill_ranking_metrics(r.eval, ranking, config);
  // A constant rating would give an AUC of exactly 0.5: the baseline's AUC
  // scores each pair by its item's training count instead (are popular items
  // the well-rated ones?).
  std::vector<float> popularity(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    popularity[static_cast<size_t>(i)] = static_cast<float>(count[static_cast<size_t>(data.test.items[static_cast<size_t>(i)])]);
  fill_auc(r.eval, popularity, data.test_ratings, config.positive_threshold);
  const double mean = std::accumulate(data.train.labels.begin(), data.train.labels.end(), 0.0) /
                      static_cast<double>(data.train.labels.size());
  r.eval.rmse = rmse(std::vector<float>(static_cast<size_t>(n), static_cast<float>(mean)), data.test.labels);
  r.eval.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace tandem
