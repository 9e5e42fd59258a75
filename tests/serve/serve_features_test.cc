// Serving a model with side-feature towers: retrieval and ranking read the
// towers' outputs (computed once at load, the timestamp at its most recent
// bucket), equal to the model's own inference path.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>

#include "support/tiny_movielens.h"
#include "tandem/app/experiment.h"
#include "tandem/serve/recommender.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

TrainedModel train_with_features() {
  const fs::path dir = fs::temp_directory_path() / ("tandem_serve_features_" + std::to_string(::getpid()));
  testing::write_tiny_movielens(dir);
  testing::write_tiny_side_files(dir);
  ExperimentConfig c = testing::tiny_config("tfrs", dir);
  testing::enable_all_side_features(c);
  auto [model, result] = train_and_evaluate(c, prepare_data(c), "joint");
  fs::remove_all(dir);
  return std::move(model);
}

TEST(ServeWithFeatures, RankerAndRetrievalUseTowerOutputs) {
  RecommenderOptions o;
  o.limits = {50, 40, 30};
  const Recommender rec(train_with_features(), o);
  const MultiTaskModel& m = *rec.model().model;
  ASSERT_TRUE(m.shape().has_towers());
  const int64_t d = m.task_dim();
  EXPECT_EQ(d, 8);

  // Ranking: the precomputed and per-request paths equal predict_ratings.
  const CandidateRanker pre(m, int64_t{1} << 30), lazy(m, 0);
  const auto n_items = m.shape().item_rows;
  std::vector<int32_t> items(static_cast<size_t>(n_items));
  std::iota(items.begin(), items.end(), 0);
  CandidateRanker::Scratch scratch;
  double worst = 0.0;
  for (int32_t u = 0; u < m.shape().user_rows; ++u) {
    std::vector<int32_t> users(items.size(), u);
    std::vector<float> want(items.size()), a(items.size()), b(items.size()), tmp;
    m.predict_ratings(users.data(), items.data(), n_items, want.data(), tmp);
    pre.predict(u, items.data(), n_items, a.data(), scratch);
    lazy.predict(u, items.data(), n_items, b.data(), scratch);
    for (size_t i = 0; i < items.size(); ++i) {
      worst = std::max<double>(worst, std::abs(a[i] - want[i]));
      worst = std::max<double>(worst, std::abs(b[i] - want[i]));
    }
  }
  EXPECT_LT(worst, 1e-5);

  // Retrieval: the candidates are the top 20 by user-tower . item-tower.
  const TrainedModel& tm = rec.model();
  const int32_t urow = *tm.users.find(3);
  std::vector<float> q(static_cast<size_t>(d));
  std::vector<float> tower_scratch;
  m.user_vectors(Task::kRetrieval, &urow, 1, q.data(), tower_scratch);
  const std::vector<float> cand = tm.catalogue_embeddings();
  std::vector<std::pair<float, int64_t>> s;
  for (size_t c = 0; c < tm.catalogue.size(); ++c) {
    float dot = 0;
    for (int64_t j = 0; j < d; ++j) dot += q[j] * cand[c * d + j];
    s.emplace_back(dot, tm.catalogue.items.item_ids[c]);
  }
  std::stable_sort(s.begin(), s.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::set<int64_t> want;
  for (int i = 0; i < 20; ++i) want.insert(s[static_cast<size_t>(i)].second);
  const auto r = rec.recommend("3", 20, 20, false);
  EXPECT_FALSE(r.cold_start);
  std::set<int64_t> got;
  for (const auto& it : r.items) got.insert(it.item_id);
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace tandem
