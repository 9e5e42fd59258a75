// The ranking losses other than MSE on real MovieLens-100K (kerasrs
// protocol, rating task only): each trains, i.e. its epoch loss falls, and
// none reports an RMSE. Measured on seed 1 (epoch 1 -> 5): bce 0.687 ->
// 0.647, pairwise-logistic 0.692 -> 0.570, pairwise-hinge 0.993 -> 0.646,
// softmax-listwise 2.262 -> 2.253 (batches of 1000 over 943 users hold
// about one example per user: few lists, slow progress).
#include <gtest/gtest.h>

#include <cmath>

#include "e2e_util.h"
#include "tandem/experiment/experiment.h"

namespace tandem::testing {
namespace {

TEST(RankingLossE2e, EveryLossTrainsOnMovieLens) {
  TANDEM_REQUIRE_MOVIELENS();
  ExperimentConfig c = preset_config("kerasrs");
  c.data_dir = movielens_dir();
  c.seed = 1;
  c.threads = 2;
  c.weights = {1.0f, 0.0f};
  const PreparedData data = prepare_data(c);
  for (auto kind : {RankingLossKind::kBce, RankingLossKind::kPairwiseLogistic,
                    RankingLossKind::kPairwiseHinge, RankingLossKind::kSoftmaxListwise}) {
    ExperimentConfig vc = c;
    vc.ranking_loss = kind;
    const RunResult r = train_and_evaluate(vc, data, "rating").second;
    const std::string what = to_string(kind);
    ASSERT_EQ(r.history.size(), 5u) << what;
    for (const auto& e : r.history)
      std::printf("%s epoch %d: ranking loss %.4f\n", what.c_str(), e.epoch, e.ranking_loss);
    for (size_t i = 1; i < r.history.size(); ++i)
      EXPECT_LT(r.history[i].ranking_loss, r.history[i - 1].ranking_loss) << what << " epoch " << i + 1;
    EXPECT_TRUE(std::isnan(r.eval.rmse)) << what;
    if (kind == RankingLossKind::kBce) {
      // 55.4% of the ratings are >= 4: no constant logit does better than
      // that split's entropy, 0.687 (the first epoch's mean is about that);
      // the trained head must (measured: 0.647 in epoch 5 of seed 1).
      EXPECT_LT(r.history.back().ranking_loss, 0.67);
    }
  }
}

}  // namespace
}  // namespace tandem::testing
