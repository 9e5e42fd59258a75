// Side features on real MovieLens-100K (TFRS protocol, joint 1:1, 10 epochs,
// seed 1): every user and item feature with a 32-wide tower MLP against the
// id embeddings alone. Measured (seeds 1, 2, 3, 42; threads 2):
//   ids only:              top-100 0.180 / 0.181 / 0.183 / 0.187, RMSE 1.01..1.08
//   features + tower [32]: top-100 0.206 / 0.206 / 0.204 / 0.207, RMSE 1.01..1.09
// The bands leave 0.015 of top-100 accuracy and 0.06 of RMSE below/above the
// worst measured figure; the gain over ids only (0.020..0.026) must stay above
// 0.01.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "e2e_util.h"
#include "tandem/experiment/experiment.h"
#include "tandem/data/ratings.h"
#include "tandem/data/side_attributes.h"

namespace tandem::testing {
namespace {

RunResult run(bool features, const std::function<void(ExperimentConfig&)>& more = {}) {
  ExperimentConfig c = preset_config("tfrs");
  c.data_dir = movielens_dir();
  c.seed = 1;
  c.threads = 2;
  c.epochs = 10;
  c.weights = {1.0f, 1.0f};
  if (features) {
    c.side_features.user = {"age", "gender", "occupation", "zip"};
    c.side_features.item = {"genres", "year"};
    c.side_features.tower_layers = {32};
  }
  if (more) more(c);
  return train_and_evaluate(c, prepare_data(c), "joint").second;
}

TEST(SideFeaturesQuality, AllFeaturesWithTowerBeatIdsOnlyOnTfrsSeed1) {
  TANDEM_REQUIRE_MOVIELENS();
  const RunResult with = run(true);
  const RunResult ids = run(false);
  EXPECT_EQ(with.eval.k, 100);
  EXPECT_GE(with.eval.topk_accuracy, 0.19);
  EXPECT_LE(with.eval.rmse, 1.15);
  EXPECT_GT(with.eval.topk_accuracy, ids.eval.topk_accuracy + 0.01);
}

// The towers with the options once refused with them, on the same protocol.
// Measured (seed 1, threads 2, the tfrs preset's title keys and fixed order;
// features + tower [32] alone: 0.206 / 1.036, seeds 1-5 0.196-0.213):
//   + 1024 mixed negatives (through the item tower): top-100 0.257, RMSE 1.006
//   + timestamp (10 buckets) + logQ (every example its own query): 0.397 / 1.068
//   + mmoe (4 experts of 32 over the towers' outputs): 0.105 / 1.056
// The bands leave about 0.02 of top-100 below the measured figures. mmoe is
// unstable at these settings (seeds 1-5: 0.066-0.172 top-100, RMSE
// 1.056-1.143), so its band only asks for clearly more than the rating-only
// model's chance level (0.059) at seed 1.
TEST(SideFeaturesQuality, TowersWithMixedNegativesTimestampLogqAndExperts) {
  TANDEM_REQUIRE_MOVIELENS();
  const RunResult towers = run(true);
  const RunResult mixed = run(true, [](ExperimentConfig& c) { c.retrieval.mixed_negatives = 1024; });
  EXPECT_GT(mixed.eval.topk_accuracy, towers.eval.topk_accuracy + 0.03);
  EXPECT_LE(mixed.eval.rmse, 1.15);
  const RunResult hot = run(true, [](ExperimentConfig& c) {
    c.side_features.timestamp_buckets = 10;
    c.retrieval.logq_correction = true;
  });
  EXPECT_GE(hot.eval.topk_accuracy, 0.38);
  EXPECT_LE(hot.eval.rmse, 1.15);
  const RunResult mmoe = run(true, [](ExperimentConfig& c) { c.multitask.arch = MultitaskArch::kMmoe; });
  EXPECT_GE(mmoe.eval.topk_accuracy, 0.085);
  EXPECT_LE(mmoe.eval.rmse, 1.15);
}

}  // namespace
}  // namespace tandem::testing

namespace tandem::testing {
namespace {

// The csv format's side-feature columns on real data: MovieLens-100K written
// out as a csv with the users' gender and occupation on every rating row and
// an items file whose genres column is a '|' list builds the very towers the
// MovieLens files do, and trains the same model to the last bit.
TEST(SideFeaturesQuality, CsvColumnsMatchTheMovieLensFilesOnMl100k) {
  TANDEM_REQUIRE_MOVIELENS();
  namespace fs = std::filesystem;
  const fs::path ml = movielens_dir();
  const fs::path dir = fs::temp_directory_path() / ("tandem_csv_features_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const Ratings ratings = load_ratings((ml / "u.data").string());
  const SideAttributes users = load_user_attributes((ml / "u.user").string(), false);
  const SideAttributes items = load_item_attributes((ml / "u.item").string(), false);
  const int gender = users.attribute("gender"), occupation = users.attribute("occupation");
  const int genres = items.attribute("genres");
  {
    std::ofstream r(dir / "ratings.csv"), m(dir / "items.csv");
    r << "user,item,rating,ts,gender,occupation\n";
    for (size_t i = 0; i < ratings.size(); ++i)
      r << ratings.users[i] << ',' << ratings.items[i] << ',' << ratings.ratings[i] << ','
        << ratings.timestamps[i] << ',' << users.values(ratings.users[i], gender)->at(0) << ','
        << users.values(ratings.users[i], occupation)->at(0) << '\n';
    m << "id,title,genres\n";
    for (const auto& [id, record] : items.record_of_id) {
      std::string list;
      for (const auto& g : items.records[record][static_cast<size_t>(genres)]) list += (list.empty() ? "" : "|") + g;
      m << id << ",movie " << id << ',' << list << '\n';
    }
  }
  ExperimentConfig native = preset_config("kerasrs");
  native.data_dir = ml.string();
  native.epochs = 2;
  native.threads = 2;
  native.side_features.user = {"gender", "occupation"};
  native.side_features.item = {"genres"};
  native.side_features.tower_layers = {16};
  ExperimentConfig csv = native;
  csv.data_dir.clear();
  csv.data_format = "csv";
  csv.csv.ratings_file = (dir / "ratings.csv").string();
  csv.csv.items_file = (dir / "items.csv").string();
  csv.csv.user = ColumnRef::named("user");
  csv.csv.item = ColumnRef::named("item");
  csv.csv.rating = ColumnRef::named("rating");
  csv.csv.timestamp = ColumnRef::named("ts");
  csv.csv.list_separator = "|";

  const PreparedData a = prepare_data(native), b = prepare_data(csv);
  for (const auto& [ta, tb] : {std::pair{&a.towers.user, &b.towers.user}, std::pair{&a.towers.item, &b.towers.item}}) {
    ASSERT_EQ(ta->features.size(), tb->features.size());
    for (size_t k = 0; k < ta->features.size(); ++k) {
      const TowerFeature &fa = ta->features[k], &fb = tb->features[k];
      EXPECT_EQ(fa.name, fb.name);
      EXPECT_EQ(fa.vocabulary, fb.vocabulary) << fa.name;
      EXPECT_EQ(fa.offsets, fb.offsets) << fa.name;
      EXPECT_EQ(fa.values, fb.values) << fa.name;
    }
  }
  EXPECT_EQ(a.towers.item.features.at(0).vocabulary.size(), 19u);  // every genre
  const RunResult ra = train_and_evaluate(native, a, "joint").second;
  const RunResult rb = train_and_evaluate(csv, b, "joint").second;
  EXPECT_EQ(ra.eval.topk_accuracy, rb.eval.topk_accuracy);
  EXPECT_EQ(ra.eval.rmse, rb.eval.rmse);
  EXPECT_GT(ra.eval.topk_accuracy, 0.0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem::testing
