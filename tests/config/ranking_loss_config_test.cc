// The ranking-loss choice in the app: config keys (TOML, JSON, old model
// files), the bce threshold's move to the label scale, what the head's output
// is reported as, and a tiny training run per loss (RMSE absent, the saved
// model reports the same, recommend shows the head's value as documented).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "support/tiny_movielens.h"
#include "tandem/config/config_file.h"
#include "tandem/experiment/experiment.h"
#include "tandem/evaluate/ranking_output.h"
#include "tandem/serve/recommender.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::string& text) {
  try {
    parse_config_toml(text, "cfg.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(RankingLossConfig, DefaultsAreTheTutorialsMse) {
  for (const std::string preset : {"kerasrs", "tfrs"}) {
    const ExperimentConfig c = preset_config(preset);
    EXPECT_EQ(c.ranking_loss, RankingLossKind::kMse);
    EXPECT_EQ(ranking_output(c), RankingOutput::kRating);
    EXPECT_FLOAT_EQ(ranking_output_value(c, transform_label(c.label_transform, 3.0f)), 3.0f);
  }
}

TEST(RankingLossConfig, TomlKeysAndRoundTrip) {
  const ExperimentConfig c = parse_config_toml(R"(
[training]
ranking_loss = "pairwise-hinge"
ranking_margin = 0.5
positive_threshold = 3.5
)",
                                               "cfg.toml");
  EXPECT_EQ(c.ranking_loss, RankingLossKind::kPairwiseHinge);
  EXPECT_FLOAT_EQ(c.ranking_margin, 0.5f);
  EXPECT_FLOAT_EQ(c.ranking_positive_threshold, 3.5f);
  const ExperimentConfig back = parse_config_toml(config_to_toml(c), "printed.toml");
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(ExperimentConfig::from_json(c.to_json()).to_json(), c.to_json());

  EXPECT_NE(error_of("[training]\nranking_loss = \"listnet\"\n")
                .find("'training.ranking_loss' must be one of mse, bce, pairwise-logistic, "
                      "pairwise-hinge, softmax-listwise, got 'listnet'"),
            std::string::npos);
  EXPECT_NE(error_of("[training]\nranking_margin = -1\n").find("ranking margin must be finite and >= 0"),
            std::string::npos);
  EXPECT_NE(error_of("[training]\npositive_threshold = \"4\"\n")
                .find("'training.positive_threshold' must be a number"),
            std::string::npos);
}

TEST(RankingLossConfig, ModelFilesWithoutTheKeysLoadAsMse) {
  ExperimentConfig c = preset_config("kerasrs");
  c.ranking_loss = RankingLossKind::kBce;
  c.ranking_positive_threshold = 5.0f;
  nlohmann::json j = c.to_json();
  EXPECT_EQ(j["training"]["ranking_loss"], "bce");
  j["training"].erase("ranking_loss");
  j["training"].erase("ranking_margin");
  j["training"].erase("positive_threshold");
  const ExperimentConfig old = ExperimentConfig::from_json(j);
  EXPECT_EQ(old.ranking_loss, RankingLossKind::kMse);
  EXPECT_FLOAT_EQ(old.ranking_margin, 1.0f);
  EXPECT_FLOAT_EQ(old.ranking_positive_threshold, 4.0f);
  j["training"]["ranking_loss"] = "pointwise";
  EXPECT_THROW(ExperimentConfig::from_json(j), Error);
}

TEST(RankingLossConfig, BceThresholdIsTheRatingsOnEitherLabelScale) {
  for (const std::string preset : {"kerasrs", "tfrs"}) {
    ExperimentConfig c = preset_config(preset);
    c.ranking_loss = RankingLossKind::kBce;
    c.ranking_positive_threshold = 4.0f;
    const RankingLossSpec s = ranking_loss_spec(c);
    EXPECT_EQ(s.kind, RankingLossKind::kBce);
    // Ratings 1..5 and half stars: positive exactly when the rating is >= 4.
    for (float r = 0.5f; r <= 5.0f; r += 0.5f)
      EXPECT_EQ(transform_label(c.label_transform, r) >= s.label_threshold, r >= 4.0f)
          << preset << " rating " << r;
    EXPECT_EQ(ranking_output(c), RankingOutput::kProbability);
    EXPECT_FLOAT_EQ(ranking_output_value(c, 0.0f), 0.5f);
    EXPECT_NEAR(ranking_output_value(c, 2.0f), 1.0 / (1.0 + std::exp(-2.0)), 1e-7);
    c.ranking_loss = RankingLossKind::kSoftmaxListwise;
    EXPECT_EQ(ranking_output(c), RankingOutput::kScore);
    EXPECT_FLOAT_EQ(ranking_output_value(c, -3.25f), -3.25f);
  }
  EXPECT_STREQ(ranking_output_key(RankingOutput::kRating), "predicted_rating");
  EXPECT_STREQ(ranking_output_key(RankingOutput::kProbability), "positive_probability");
  EXPECT_STREQ(ranking_output_key(RankingOutput::kScore), "ranking_score");
}

class RankingLossRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_rankloss_" + std::to_string(::getpid()));
    testing::write_tiny_movielens(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(RankingLossRun, EveryLossTrainsAndReportsNoRating) {
  for (const std::string preset : {"kerasrs", "tfrs"}) {
    for (auto kind : {RankingLossKind::kBce, RankingLossKind::kPairwiseLogistic,
                      RankingLossKind::kPairwiseHinge, RankingLossKind::kSoftmaxListwise}) {
      ExperimentConfig c = testing::tiny_config(preset, dir_);
      c.ranking_loss = kind;
      const PreparedData data = prepare_data(c);
      auto [model, result] = train_and_evaluate(c, data, "joint");
      const std::string what = preset + " " + to_string(kind);
      EXPECT_EQ(model.model->ranking_loss().kind, kind) << what;
      for (const auto& e : result.history) EXPECT_TRUE(std::isfinite(e.ranking_loss)) << what;
      EXPECT_TRUE(std::isnan(result.eval.rmse)) << what;
      EXPECT_TRUE(result.to_json()["rmse"].is_null()) << what;
      EXPECT_TRUE(std::isnan(EvalResult::from_json(result.eval.to_json()).rmse)) << what;
      // The recommender shows the head's value as ranking_output reads it,
      // and no predicted rating.
      const Recommender rec(std::move(model));
      const auto recs = rec.recommend("3", 4, 4, false).items;
      ASSERT_EQ(recs.size(), 4u) << what;
      const int32_t u = *rec.model().users.find(3);
      for (const auto& r : recs) {
        const auto row = rec.model().items.find(r.item_id);
        ASSERT_TRUE(row.has_value());
        ASSERT_TRUE(r.ranking_value.has_value()) << what;
        EXPECT_FALSE(r.predicted_rating.has_value()) << what;
        std::vector<float> out(1), scratch;
        const int32_t i = *row;
        rec.model().model->predict_ratings(&u, &i, 1, out.data(), scratch);
        // One pair against the recommender's batch of four: OpenBLAS may
        // take other kernels for the two shapes (AVX-512 does), so the last
        // bits can differ.
        const float want = ranking_output_value(c, out[0]);
        EXPECT_NEAR(*r.ranking_value, want, 1e-5f * std::max(1.0f, std::abs(want))) << what;
        if (kind == RankingLossKind::kBce) {
          EXPECT_GT(*r.ranking_value, 0.0f);
          EXPECT_LT(*r.ranking_value, 1.0f);
        }
      }
    }
  }
}

// The default keeps reporting RMSE (the mse path itself is covered by the
// existing model and e2e tests).
TEST_F(RankingLossRun, MseStillReportsRmse) {
  const ExperimentConfig c = testing::tiny_config("kerasrs", dir_);
  const PreparedData data = prepare_data(c);
  auto [model, result] = train_and_evaluate(c, data, "joint");
  // On the unit-interval labels. The tiny data's ratings are spread evenly over
  // 1..5, so predicting their mean gives about 0.35, and predicting 0 (an
  // untrained head) about 0.61. Measured 0.361-0.375 over init seeds 1-8 (this
  // config: 0.367).
  EXPECT_GT(result.eval.rmse, 0.345);
  EXPECT_LT(result.eval.rmse, 0.39);
}

}  // namespace
}  // namespace tandem
