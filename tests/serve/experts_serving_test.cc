// Serving an mmoe/ple model: a saved and reloaded model gives the same
// predictions and recommendations, the serving path's retrieval and ranking
// vectors are the towers' task outputs, and old model files (no multitask
// keys) load as shared-bottom.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>
#include <string>

#include "support/tiny_movielens.h"
#include "tandem/experiment/experiment.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/evaluate/topk.h"
#include "tandem/serve/candidate_ranker.h"
#include "tandem/serve/recommender.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

class ExpertsServingTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tandem_experts_" + GetParam() + "_" + std::to_string(::getpid()));
    testing::write_tiny_movielens(dir_);
    config_ = testing::tiny_config("tfrs", dir_);
    config_.multitask.arch = parse_multitask_arch(GetParam());
    config_.multitask.expert_dim = 6;
    config_.multitask.weighting = TaskWeighting::kUncertainty;
    data_ = std::make_unique<PreparedData>(prepare_data(config_));
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  ExperimentConfig config_;
  std::unique_ptr<PreparedData> data_;
};

TEST_P(ExpertsServingTest, SaveLoadRoundTripGivesIdenticalPredictionsAndRecommendations) {
  auto [trained, result] = train_and_evaluate(config_, *data_, "joint");
  ASSERT_EQ(result.history.size(), 2u);
  // The learned weights are reported per epoch and are not the initial 1.
  ASSERT_EQ(result.history.back().learned_task_weights.size(), 2u);
  EXPECT_NE(result.history.back().learned_task_weights[0], 1.0);
  const std::string path = (dir_ / "m.tandem").string();
  save_model(path, trained);
  const TrainedModel loaded = load_model(path);
  EXPECT_EQ(loaded.config.multitask.arch, config_.multitask.arch);
  EXPECT_EQ(loaded.model->task_dim(), 6);

  const auto& test = data_->test;
  const auto n = static_cast<int64_t>(test.size());
  std::vector<float> a(static_cast<size_t>(n)), b(a.size()), scratch;
  trained.model->predict_ratings(test.users.data(), test.items.data(), n, a.data(), scratch);
  loaded.model->predict_ratings(test.users.data(), test.items.data(), n, b.data(), scratch);
  EXPECT_EQ(a, b);
  EXPECT_EQ(trained.catalogue_embeddings(), loaded.catalogue_embeddings());

  // The same evaluation as right after training.
  const EvalResult again = evaluate(*loaded.model, loaded.config, data_->catalogue, test,
                                    data_->test_ratings);
  EXPECT_EQ(again.topk_accuracy, result.eval.topk_accuracy);
  EXPECT_EQ(again.rmse, result.eval.rmse);

  const std::string user = std::to_string(loaded.users.defining_ids().front());
  const Recommender rec_a(std::move(trained)), rec_b(load_model(path));
  const auto ra = rec_a.recommend(user, 5, 20, false).items, rb = rec_b.recommend(user, 5, 20, false).items;
  ASSERT_EQ(ra.size(), 5u);
  ASSERT_EQ(ra.size(), rb.size());
  for (size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ra[i].item_id, rb[i].item_id);
    EXPECT_EQ(ra[i].score, rb[i].score);
    EXPECT_EQ(ra[i].predicted_rating, rb[i].predicted_rating);
  }
}

TEST_P(ExpertsServingTest, RankerAndRecommenderUseTheTowerVectors) {
  auto [trained, result] = train_and_evaluate(config_, *data_, "joint");
  const MultiTaskModel& model = *trained.model;
  const int32_t user = 1;
  std::vector<int32_t> items(static_cast<size_t>(model.shape().item_rows));
  std::iota(items.begin(), items.end(), 0);
  const auto n = static_cast<int64_t>(items.size());
  std::vector<float> expected(items.size()), scratch;
  const std::vector<int32_t> users(items.size(), user);
  model.predict_ratings(users.data(), items.data(), n, expected.data(), scratch);
  for (int64_t budget : {int64_t{0}, int64_t{1} << 30}) {  // per request, and precomputed
    CandidateRanker ranker(model, budget);
    EXPECT_EQ(ranker.precomputed(), budget > 0);
    std::vector<float> got(items.size());
    CandidateRanker::Scratch s;
    ranker.predict(user, items.data(), n, got.data(), s);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-4f) << i;
  }
  // The recommender retrieves by the tower's retrieval vectors: its
  // candidates are the exact top-10 of user vector . catalogue embeddings,
  // whatever order the ranking then gives them.
  const int64_t user_id = trained.users.defining_ids().front();
  const int32_t row = *trained.users.find(user_id);
  const int64_t d = model.task_dim();
  std::vector<float> query(static_cast<size_t>(d)), tower_scratch;
  model.user_vectors(Task::kRetrieval, &row, 1, query.data(), tower_scratch);
  const std::vector<float> cand = trained.catalogue_embeddings();
  const auto top = top_k(query.data(), 1, {cand.data(), static_cast<int64_t>(trained.catalogue.size()), d}, 10)[0];
  std::set<int64_t> a, b;
  for (const auto& s : top) a.insert(trained.catalogue.items.item_ids[static_cast<size_t>(s.index)]);
  Recommender rec(std::move(trained));
  const auto served = rec.recommend(std::to_string(user_id), 10, 10, false);
  ASSERT_EQ(served.items.size(), top.size());
  for (const auto& r : served.items) b.insert(r.item_id);
  EXPECT_EQ(a, b);
}

INSTANTIATE_TEST_SUITE_P(Arch, ExpertsServingTest, ::testing::Values("mmoe", "ple"));

TEST(ExperimentConfigExperts, OldConfigsLoadAsSharedBottomAndNewKeysRoundTrip) {
  ExperimentConfig c = preset_config("tfrs");
  nlohmann::json j = c.to_json();
  for (const char* key : {"multitask", "experts", "shared_experts", "task_experts", "expert_dim",
                          "task_weighting"})
    j["model"].erase(key);
  const ExperimentConfig old = ExperimentConfig::from_json(j);
  EXPECT_EQ(old.multitask.arch, MultitaskArch::kSharedBottom);
  EXPECT_EQ(old.multitask.weighting, TaskWeighting::kFixed);
  c.multitask.arch = MultitaskArch::kPle;
  c.multitask.shared_experts = 3;
  c.multitask.task_experts = 1;
  c.multitask.expert_dim = 16;
  c.multitask.weighting = TaskWeighting::kUncertainty;
  const ExperimentConfig back = ExperimentConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.multitask.shared_experts, 3);
  nlohmann::json bad = c.to_json();
  bad["model"]["multitask"] = "moe";
  EXPECT_THROW(ExperimentConfig::from_json(bad), Error);
  bad = c.to_json();
  bad["model"]["expert_dim"] = 0;
  EXPECT_THROW(ExperimentConfig::from_json(bad), Error);
}

}  // namespace
}  // namespace tandem
