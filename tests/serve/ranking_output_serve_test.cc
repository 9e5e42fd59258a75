// Serving a head trained with a ranking loss other than mse: no reply calls
// its output a rating; the value goes under the name ranking_output.h gives it,
// and ranking orders by it.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "support/tiny_movielens.h"
#include "tandem/experiment/experiment.h"
#include "tandem/evaluate/ranking_output.h"
#include "tandem/serve/api_json.h"
#include "tandem/serve/recommender.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

TrainedModel train_tiny(RankingLossKind kind) {
  const fs::path dir = fs::temp_directory_path() /
                       ("tandem_serve_rankloss_" + to_string(kind) + "_" + std::to_string(::getpid()));
  testing::write_tiny_movielens(dir);
  ExperimentConfig c = testing::tiny_config("kerasrs", dir);
  c.ranking_loss = kind;
  const PreparedData data = prepare_data(c);
  auto [model, result] = train_and_evaluate(c, data, "joint");
  fs::remove_all(dir);
  return std::move(model);
}

TEST(RankingOutputServe, RepliesNameTheHeadsValue) {
  for (auto kind : {RankingLossKind::kBce, RankingLossKind::kPairwiseLogistic}) {
    const Recommender rec(train_tiny(kind));
    const RankingOutput out = kind == RankingLossKind::kBce ? RankingOutput::kProbability
                                                            : RankingOutput::kScore;
    const char* key = ranking_output_key(out);
    EXPECT_EQ(rec.ranking_output(), out);
    const auto r = rec.recommend("3", 6, 20, false);
    ASSERT_EQ(r.items.size(), 6u);
    EXPECT_EQ(r.ranking_output, out);
    std::vector<int64_t> ids;
    for (const auto& it : r.items) ids.push_back(it.item_id);
    const std::vector<float> scores = rec.score("3", ids);
    for (size_t i = 0; i < r.items.size(); ++i) {
      EXPECT_FALSE(r.items[i].predicted_rating.has_value()) << key;
      ASSERT_TRUE(r.items[i].ranking_value.has_value());
      EXPECT_FLOAT_EQ(*r.items[i].ranking_value, scores[i]);
      if (out == RankingOutput::kProbability) {
        EXPECT_GT(scores[i], 0.0f);
        EXPECT_LT(scores[i], 1.0f);
      }
      if (i > 0) {
        EXPECT_GE(*r.items[i - 1].ranking_value, *r.items[i].ranking_value);
      }
    }
    const nlohmann::json j = encode_recommend_result("3", r);
    for (size_t i = 0; i < r.items.size(); ++i) {
      EXPECT_TRUE(j["items"][i]["predicted_rating"].is_null());
      EXPECT_FLOAT_EQ(j["items"][i][key].get<float>(), *r.items[i].ranking_value);
    }
    const nlohmann::json s = encode_scores("3", ids, scores, rec.ranking_output());
    EXPECT_TRUE(s["predictions"][0]["predicted_rating"].is_null());
    EXPECT_FLOAT_EQ(s["predictions"][0][key].get<float>(), scores[0]);
    // Cold start: no value at all.
    const auto cold = rec.recommend("99999", 3, 3, false);
    ASSERT_TRUE(cold.cold_start);
    EXPECT_FALSE(cold.items[0].ranking_value.has_value());
    EXPECT_TRUE(encode_recommend_result("99999", cold)["items"][0][key].is_null());
  }
}

TEST(RankingOutputServe, MseRepliesAreUnchanged) {
  const auto s = encode_scores("5", {1, 2}, {3.5f, 4.0f});
  EXPECT_FLOAT_EQ(s["predictions"][0]["predicted_rating"].get<float>(), 3.5f);
  EXPECT_EQ(s["predictions"][0].size(), 2u);  // item_id, predicted_rating
}

}  // namespace
}  // namespace tandem
