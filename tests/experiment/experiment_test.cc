// Experiments on small synthetic files: presets, config round trip, data
// preparation (vocabularies, split, coverage), model save/load and recommend.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "tandem/experiment/experiment.h"
#include "tandem/serve/recommender.h"
#include "tandem/artifact/reference_split.h"
#include "tandem/core/error.h"
#include "support/tiny_movielens.h"
#include "tandem/io/model_file.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_app_" + std::to_string(::getpid()));
    testing::write_tiny_movielens(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ExperimentConfig small_config(const std::string& preset) const {
    return testing::tiny_config(preset, dir_);
  }
  fs::path dir_;
};

TEST_F(AppTest, PresetsMatchTheTutorials) {
  const auto k = preset_config("kerasrs");
  EXPECT_EQ(k.batch_size, 1000);
  EXPECT_EQ(k.epochs, 5);
  EXPECT_EQ(k.k, 10);
  EXPECT_EQ(k.shuffle, ShuffleMode::kNone);
  EXPECT_EQ(k.item_key, ItemKey::kId);
  EXPECT_EQ(k.id_mode, IdMode::kInteger);
  EXPECT_FLOAT_EQ(transform_label(k.label_transform, 5.0f), 1.0f);
  EXPECT_FLOAT_EQ(transform_label(k.label_transform, 1.0f), 0.0f);
  EXPECT_FLOAT_EQ(rating_from_label(k.label_transform, 0.5f), 3.0f);
  ASSERT_TRUE(k.topk_min_rating.has_value());
  const auto t = preset_config("tfrs");
  EXPECT_EQ(t.batch_size, 8192);
  EXPECT_EQ(t.eval_batch_size, 4096);
  EXPECT_EQ(t.epochs, 3);
  EXPECT_EQ(t.k, 100);
  EXPECT_EQ(t.shuffle, ShuffleMode::kOnce);
  EXPECT_EQ(t.item_key, ItemKey::kTitle);
  EXPECT_EQ(t.id_mode, IdMode::kVocabulary);
  EXPECT_FALSE(t.topk_min_rating.has_value());
  for (const auto& c : {k, t}) {
    EXPECT_EQ(c.embedding_dim, 32);
    EXPECT_EQ(c.layer_sizes, (std::vector<int64_t>{256, 128}));
    EXPECT_FLOAT_EQ(c.optimizer.learning_rate, 0.1f);
    EXPECT_FLOAT_EQ(c.optimizer.initial_accumulator, 0.1f);
    EXPECT_FLOAT_EQ(c.optimizer.epsilon, 1e-7f);
    EXPECT_EQ(c.train_count, 80000);
    EXPECT_EQ(c.test_count, 20000);
  }
  EXPECT_THROW(preset_config("pytorch"), Error);
}

TEST_F(AppTest, ConfigJsonRoundTripAndValidation) {
  ExperimentConfig c = small_config("tfrs");
  c.weights = {0.3f, 0.7f};
  const ExperimentConfig back = ExperimentConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  ExperimentConfig bad = c;
  bad.weights = {0.0f, 0.0f};
  EXPECT_THROW(bad.validate(), Error);
  bad = c;
  bad.batch_size = 0;
  EXPECT_THROW(bad.validate(), Error);
  bad = c;
  bad.train_file = "x";
  EXPECT_THROW(bad.validate(), Error);  // --train without --test
}

TEST_F(AppTest, PreparesBothVocabularyKinds) {
  const PreparedData k = prepare_data(small_config("kerasrs"));
  EXPECT_EQ(k.users.rows(), 31);  // ids 1..30 -> max + 1
  EXPECT_EQ(k.items.rows(), 43);  // catalogue ids 1..42
  EXPECT_EQ(k.catalogue.size(), 42u);
  EXPECT_EQ(k.train.size(), 1000u);
  EXPECT_EQ(k.test.size(), 200u);
  EXPECT_EQ(k.catalogue.items.titles[0], "Movie 1 (1991)");
  for (float l : k.train.labels) {
    EXPECT_GE(l, 0.0f);
    EXPECT_LE(l, 1.0f);
  }
  const PreparedData t = prepare_data(small_config("tfrs"));
  EXPECT_EQ(t.items.rows(), 43);  // 42 + OOV
  EXPECT_EQ(t.catalogue.rows[0], 1);  // row 0 is the OOV slot
  for (float l : t.train.labels) EXPECT_GE(l, 1.0f);
  // Same seed, same split, whatever the preset.
  EXPECT_EQ(k.test_ratings, t.test_ratings);
}

TEST_F(AppTest, SaveLoadReproducesMetricsAndRecommendations) {
  for (const char* preset : {"kerasrs", "tfrs"}) {
    const ExperimentConfig c = small_config(preset);
    const PreparedData data = prepare_data(c);
    auto [model, result] = train_and_evaluate(c, data, "joint");
    const std::string path = (dir_ / "m.tandem").string();
    save_model(path, model);
    const TrainedModel loaded = load_model(path);
    EXPECT_EQ(loaded.config.to_json(), c.to_json());
    EXPECT_EQ(loaded.model->user_table().weights, model.model->user_table().weights);
    const PreparedData again = model_test_set(loaded, "", "");
    const EvalResult e = evaluate(*loaded.model, loaded.config, loaded.catalogue, again.test,
                                  again.test_ratings);
    EXPECT_DOUBLE_EQ(e.topk_accuracy, result.eval.topk_accuracy) << preset;
    EXPECT_DOUBLE_EQ(e.rmse, result.eval.rmse) << preset;
    // Recommendations through the serving path: the same for the trained
    // and the loaded model, best predicted rating first.
    const Recommender rec_a(std::move(model)), rec_b(load_model(path));
    const auto a = rec_a.recommend("3", 5, 20, false).items, b = rec_b.recommend("3", 5, 20, false).items;
    ASSERT_EQ(a.size(), 5u);
    ASSERT_EQ(b.size(), 5u);
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].item_id, b[i].item_id);
      EXPECT_EQ(a[i].score, b[i].score);
      EXPECT_EQ(a[i].predicted_rating, b[i].predicted_rating);
      EXPECT_FALSE(a[i].title.empty());
      if (i > 0) {
        EXPECT_GE(*a[i - 1].ranking_value, *a[i].ranking_value);
      }
    }
    EXPECT_TRUE(rec_b.recommend("999", 5, 5, false).cold_start);
    EXPECT_THROW(rec_b.recommend("3", 0, 5, false), Error);
  }
}

TEST_F(AppTest, TrainingInteractionsTravelInTheModelFile) {
  const ExperimentConfig c = small_config("tfrs");
  const PreparedData data = prepare_data(c);
  auto [model, result] = train_and_evaluate(c, data, "joint");
  int64_t total = 0;
  for (int64_t n : model.item_train_counts) total += n;
  EXPECT_EQ(total, static_cast<int64_t>(data.train.size()));
  // Seen items of one user: exactly the distinct items of its training pairs.
  const int32_t user = data.train.users[0];
  std::set<int32_t> expected;
  for (size_t i = 0; i < data.train.size(); ++i)
    if (data.train.users[i] == user) expected.insert(data.train.items[i]);
  const std::set<int32_t> got(model.seen_items.begin() + model.seen_offsets[user],
                              model.seen_items.begin() + model.seen_offsets[user + 1]);
  EXPECT_EQ(got, expected);
  const std::string path = (dir_ / "m.tandem").string();
  save_model(path, model);
  const TrainedModel loaded = load_model(path);
  EXPECT_EQ(loaded.item_train_counts, model.item_train_counts);
  EXPECT_EQ(loaded.seen_offsets, model.seen_offsets);
  EXPECT_EQ(loaded.seen_items, model.seen_items);
}

TEST_F(AppTest, LoadRejectsInconsistentModelFiles) {
  const ExperimentConfig c = small_config("kerasrs");
  const PreparedData data = prepare_data(c);
  auto [model, result] = train_and_evaluate(c, data, "joint");
  const std::string path = (dir_ / "m.tandem").string();
  save_model(path, model);
  ModelBundle b = read_model_file(path);
  // A valid file (checksum fine) whose embedding table does not fit the config.
  for (auto& t : b.tensors) {
    if (t.name == "user_embedding") {
      t.shape = {t.shape[0] - 1, t.shape[1]};
      t.data.resize(static_cast<size_t>(t.shape[0] * t.shape[1]));
    }
  }
  write_model_file(path, b);
  try {
    load_model(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("user_embedding"), std::string::npos) << e.what();
  }
  ModelBundle other;
  other.metadata["format"] = "something-else";
  write_model_file(path, other);
  EXPECT_THROW(load_model(path), Error);
}

}  // namespace
}  // namespace tandem
