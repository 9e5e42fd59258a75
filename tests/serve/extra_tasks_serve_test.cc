// Serving a model with an extra task: each recommended item carries the
// task's prediction for the user (a binary task's P(positive)), in the
// library result and in /v1/recommend's JSON; a model without extra tasks
// answers exactly as before (no "tasks" key).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "support/tiny_movielens.h"
#include "tandem/config/task_config.h"
#include "tandem/experiment/experiment.h"
#include "tandem/serve/api_json.h"
#include "tandem/serve/recommender.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

TrainedModel train_tiny(bool liked) {
  const fs::path dir = fs::temp_directory_path() /
                       ("tandem_serve_tasks_" + std::to_string(liked) + "_" + std::to_string(::getpid()));
  testing::write_tiny_movielens(dir);
  ExperimentConfig c = testing::tiny_config("kerasrs", dir);
  if (liked) c.extra_tasks.push_back(parse_extra_task_spec("liked:binary:1"));
  const PreparedData data = prepare_data(c);
  auto [model, result] = train_and_evaluate(c, data, "joint");
  fs::remove_all(dir);
  return std::move(model);
}

TEST(ExtraTasksServe, RecommendedItemsCarryEachTasksProbability) {
  const Recommender rec(train_tiny(true));
  const MultiTaskModel& m = *rec.model().model;
  ASSERT_EQ(m.extra_task_count(), 1);
  const RecommendResult r = rec.recommend("3", 5, 20, false);
  ASSERT_EQ(r.items.size(), 5u);
  const auto user = rec.model().users.find(3);
  ASSERT_TRUE(user.has_value());
  const nlohmann::json j = encode_recommend_result("3", r, nullptr);
  for (size_t i = 0; i < r.items.size(); ++i) {
    const auto& it = r.items[i];
    ASSERT_EQ(it.tasks.size(), 1u);
    EXPECT_EQ(it.tasks[0].first, "liked");
    // The model's own logit for (user, item), as a probability.
    const int32_t row = rec.model().items.find(it.item_id).value();
    const int32_t urow = *user;
    float logit = 0.0f;
    std::vector<float> scratch;
    m.predict_extra(0, &urow, &row, 1, &logit, scratch);
    EXPECT_NEAR(it.tasks[0].second, 1.0 / (1.0 + std::exp(-logit)), 1e-6);
    EXPECT_GT(it.tasks[0].second, 0.0f);
    EXPECT_LT(it.tasks[0].second, 1.0f);
    EXPECT_FLOAT_EQ(j["items"][i]["tasks"]["liked"].get<float>(), it.tasks[0].second);
  }
  // /v1/score gives the same probabilities for the same pairs.
  std::vector<int64_t> ids;
  for (const auto& it : r.items) ids.push_back(it.item_id);
  const std::vector<TaskScores> scores = rec.task_scores("3", ids);
  ASSERT_EQ(scores.size(), 1u);
  EXPECT_EQ(scores[0].name, "liked");
  const nlohmann::json sj = encode_scores("3", ids, rec.score("3", ids), rec.ranking_output(), nullptr, scores);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_NEAR(scores[0].values[i], r.items[i].tasks[0].second, 1e-6);
    EXPECT_FLOAT_EQ(sj["predictions"][i]["tasks"]["liked"].get<float>(), scores[0].values[i]);
  }
  // Cold start (no user vector): popular items, no predictions.
  const RecommendResult cold = rec.recommend("999999", 3, 20, false);
  ASSERT_TRUE(cold.cold_start);
  for (const auto& it : cold.items) EXPECT_TRUE(it.tasks.empty());
}

TEST(ExtraTasksServe, ModelsWithoutExtraTasksAnswerAsBefore) {
  const Recommender rec(train_tiny(false));
  const nlohmann::json j = encode_recommend_result("3", rec.recommend("3", 3, 20, false), nullptr);
  ASSERT_FALSE(j["items"].empty());
  for (const auto& it : j["items"]) EXPECT_FALSE(it.contains("tasks"));
  EXPECT_TRUE(rec.task_scores("3", {1, 2}).empty());
  const nlohmann::json sj = encode_scores("3", {1, 2}, rec.score("3", {1, 2}));
  for (const auto& p : sj["predictions"]) EXPECT_FALSE(p.contains("tasks"));
}

}  // namespace
}  // namespace tandem
