#include "tandem/experiment/baseline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "support/tiny_movielens.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

// On the tiny data: recount popularity and every positive's rank with plain
// loops (strictly more training ratings = ranked above), and the RMSE of the
// mean training label, and compare.
TEST(PopularityBaseline, MatchesACountByHand) {
  const fs::path dir = fs::temp_directory_path() / ("tandem_pop_" + std::to_string(::getpid()));
  testing::write_tiny_movielens(dir);
  for (const std::string preset : {"kerasrs", "tfrs"}) {
    ExperimentConfig c = testing::tiny_config(preset, dir);
    const PreparedData data = prepare_data(c);
    const RunResult r = evaluate_popularity(c, data);
    EXPECT_EQ(r.model, "popularity");
    EXPECT_EQ(r.train_seconds, 0.0);

    std::map<int32_t, int64_t> count;  // item row -> training ratings
    for (int32_t item : data.train.items) count[item] += 1;
    double hits = 0, weight = 0, se = 0, mean = 0;
    for (float l : data.train.labels) mean += l;
    mean /= static_cast<double>(data.train.labels.size());
    for (size_t i = 0; i < data.test.size(); ++i) {
      const int64_t own = count[data.test.items[i]];
      int64_t above = 0;
      for (int32_t row : data.catalogue.rows) above += count[row] > own ? 1 : 0;
      const double w = c.topk_min_rating ? (data.test_ratings[i] >= *c.topk_min_rating ? 1.0 : 0.0) : 1.0;
      weight += w;
      hits += above < c.k ? w : 0.0;
      se += (data.test.labels[i] - mean) * (data.test.labels[i] - mean);
    }
    ASSERT_GT(weight, 0);
    EXPECT_NEAR(r.eval.topk_accuracy, hits / weight, 1e-9) << preset;
    EXPECT_NEAR(r.eval.rmse, std::sqrt(se / static_cast<double>(data.test.size())), 1e-5) << preset;
    EXPECT_EQ(r.eval.k, c.k);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem
