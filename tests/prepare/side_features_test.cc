// Side features end to end on tiny data: the towers' inputs built from
// u.user / u.item (vocabularies on training data, OOV rows, hashing,
// timestamp buckets), training, and a model file that loads into the same
// recommendations.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <cmath>
#include <map>
#include <string>

#include "support/tiny_movielens.h"
#include "tandem/config/config_file.h"
#include "tandem/evaluate/evaluation.h"
#include "tandem/experiment/experiment.h"
#include "tandem/serve/recommender.h"
#include "tandem/prepare/side_feature_setup.h"
#include "tandem/artifact/trained_model.h"
#include "tandem/core/error.h"
#include "tandem/data/id_table.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

fs::path write_tiny_with_features(const std::string& tag) {
  const fs::path dir = fs::temp_directory_path() / ("tandem_side_" + tag + "_" + std::to_string(::getpid()));
  testing::write_tiny_movielens(dir);
  testing::write_tiny_side_files(dir);
  return dir;
}

ExperimentConfig feature_config(const fs::path& dir) {
  ExperimentConfig c = testing::tiny_config("tfrs", dir);
  testing::enable_all_side_features(c);
  return c;
}

const TowerFeature& feature(const TowerSpec& t, const std::string& name) {
  for (const auto& f : t.features)
    if (f.name == name) return f;
  throw Error("no feature " + name);
}

std::vector<int32_t> bag(const TowerFeature& f, int64_t row) {
  return {f.values.begin() + f.offsets[static_cast<size_t>(row)],
          f.values.begin() + f.offsets[static_cast<size_t>(row) + 1]};
}

TEST(BuildTowerSpecs, VocabulariesFromTrainingWithOovRows) {
  SideAttributes users = parse_movielens_100k_users(
      "1|24|M|writer|12345\n2|40|F|artist|12399\n3|70|F|astronaut|99999\n", "u.user");
  Ratings train;
  train.push_back(1, 10, 4, 100);
  train.push_back(2, 11, 3, 200);
  train.push_back(1, 11, 5, 300);
  const Vocabulary uv = Vocabulary::lookup({1, 2, 3, 4});  // 3 is test-only, 4 has no u.user line
  const Vocabulary iv = Vocabulary::lookup({10, 11});
  FeatureConfig c;
  c.user = {"occupation", "zip", "age"};
  c.tower_layers = {4};  // (user-only features need a tower MLP)
  const TowerSpecs s = build_tower_specs(c, &users, nullptr, train, uv, iv);
  ASSERT_EQ(s.user.features.size(), 3u);
  EXPECT_TRUE(s.item.features.empty());
  const TowerFeature& occ = s.user.features[0];
  EXPECT_EQ(occ.vocabulary, (std::vector<std::string>{"artist", "writer"}));
  EXPECT_EQ(occ.rows, 3);
  EXPECT_EQ(bag(occ, *uv.find(1)), std::vector<int32_t>{2});
  EXPECT_EQ(bag(occ, *uv.find(2)), std::vector<int32_t>{1});
  EXPECT_EQ(bag(occ, *uv.find(3)), std::vector<int32_t>{0});  // astronaut: unseen in training
  EXPECT_EQ(bag(occ, *uv.find(4)), std::vector<int32_t>{0});  // no record
  EXPECT_EQ(bag(occ, Vocabulary::kOovRow), std::vector<int32_t>{0});
  // Zip prefixes of 3 characters: users 1 and 2 share "123".
  EXPECT_EQ(s.user.features[1].vocabulary, std::vector<std::string>{"123"});
  // Ages bucketed by MovieLens-1M's groups: 24 -> 1, 40 -> 3.
  EXPECT_EQ(s.user.features[2].vocabulary, (std::vector<std::string>{"1", "3"}));

  c.hash_buckets = 1;  // both occupations exceed one bucket: hashed
  const TowerSpecs h = build_tower_specs(c, &users, nullptr, train, uv, iv);
  EXPECT_EQ(h.user.features[0].rows, 1);
  EXPECT_TRUE(h.user.features[0].vocabulary.empty());
  EXPECT_EQ(bag(h.user.features[0], *uv.find(3)), std::vector<int32_t>{0});
  EXPECT_TRUE(bag(h.user.features[0], *uv.find(4)).empty());  // no record, no OOV row: no value
  EXPECT_EQ(h.user.features[1].rows, 2);  // a single zip prefix stays a lookup vocabulary

  FeatureConfig t;
  t.timestamp_buckets = 2;
  t.tower_layers = {4};
  const TowerSpecs ts = build_tower_specs(t, nullptr, nullptr, train, uv, iv);
  ASSERT_EQ(ts.user.features.size(), 1u);
  EXPECT_TRUE(ts.user.features[0].per_example);
  EXPECT_EQ(ts.user.features[0].boundaries, std::vector<int64_t>{200});
}

TEST(SideFeatures, PrepareDataBuildsBothTowers) {
  const fs::path dir = write_tiny_with_features("prepare");
  const ExperimentConfig c = feature_config(dir);
  const PreparedData data = prepare_data(c);
  ASSERT_EQ(data.towers.user.features.size(), 5u);
  ASSERT_EQ(data.towers.item.features.size(), 2u);
  EXPECT_EQ(data.train.timestamps.size(), data.train.size());
  EXPECT_EQ(data.test.timestamps.size(), data.test.size());
  const auto& genres = feature(data.towers.item, "genres");
  EXPECT_TRUE(bag(genres, *data.items.find(7)).empty());  // no genre
  EXPECT_EQ(bag(genres, *data.items.find(8)).size(), 2u);
  const auto& year = feature(data.towers.item, "year");
  EXPECT_EQ(bag(year, *data.items.find(9)).size(), 0u);  // no release date
  const auto& occ = feature(data.towers.user, "occupation");
  EXPECT_EQ(bag(occ, *data.users.find(29)), std::vector<int32_t>{0});  // no u.user line: OOV
  fs::remove_all(dir);

  ExperimentConfig bad = c;
  bad.side_features.user = {"shoe_size"};
  EXPECT_THROW(bad.validate(), Error);
  bad = c;
  bad.side_features.tower_layers.clear();  // 5 user features, 2 item features: widths differ
  EXPECT_THROW(bad.validate(), Error);
  bad.side_features.user = {"age"};
  bad.side_features.timestamp_buckets = 3;
  EXPECT_NO_THROW(bad.validate());
}

// The combinations once refused (experts over the towers, mixed negatives
// through the item tower, the timestamp feature with retrieval options)
// validate, train on the tiny data to finite losses, and survive the model
// file.
TEST(SideFeatures, TowersCombineWithExpertsMixedNegativesAndRetrievalOptions) {
  const fs::path dir = write_tiny_with_features("combos");
  ExperimentConfig base = feature_config(dir);  // every feature, timestamp included
  ExperimentConfig mmoe = base;
  mmoe.multitask.arch = MultitaskArch::kMmoe;
  mmoe.multitask.experts = 3;
  mmoe.multitask.expert_dim = 6;
  ExperimentConfig mixed = base;
  mixed.retrieval.mixed_negatives = 16;
  mixed.retrieval.logq_correction = true;
  ExperimentConfig ple_mixed_hot = mixed;
  ple_mixed_hot.multitask.arch = MultitaskArch::kPle;
  ple_mixed_hot.multitask.experts = 3;
  ple_mixed_hot.multitask.shared_experts = 1;
  ple_mixed_hot.multitask.task_experts = 1;
  ple_mixed_hot.multitask.expert_dim = 6;
  ple_mixed_hot.retrieval.temperature = 0.5f;
  ple_mixed_hot.retrieval.remove_accidental_hits = true;
  for (const ExperimentConfig* c : {&mmoe, &mixed, &ple_mixed_hot}) {
    ASSERT_NO_THROW(c->validate());
    const PreparedData data = prepare_data(*c);
    auto [model, result] = train_and_evaluate(*c, data, "joint");
    ASSERT_FALSE(result.history.empty());
    for (const auto& e : result.history) {
      EXPECT_TRUE(std::isfinite(e.retrieval_loss));
      EXPECT_TRUE(std::isfinite(e.ranking_loss));
    }
    EXPECT_TRUE(std::isfinite(result.eval.rmse));
    const std::string path = (dir / "combo.tandem").string();
    save_model(path, model);
    const TrainedModel loaded = load_model(path);
    const EvalResult again =
        evaluate(*loaded.model, loaded.config, loaded.catalogue, data.test, data.test_ratings);
    EXPECT_EQ(again.rmse, result.eval.rmse);
    EXPECT_EQ(again.topk_accuracy, result.eval.topk_accuracy);
  }
  fs::remove_all(dir);
}

TEST(SideFeatures, FeatureNamesAreCheckedAgainstTheData) {
  ExperimentConfig c = preset_config("tfrs");
  c.side_features.user = {"age"};
  c.side_features.tower_layers = {8};
  ASSERT_NO_THROW(c.validate());
  auto expect_error = [](const ExperimentConfig& bad, const std::string& a, const std::string& b) {
    try {
      bad.validate();
      FAIL() << "no error (expected one naming " << a << " and " << b << ")";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(a), std::string::npos) << what;
      EXPECT_NE(what.find(b), std::string::npos) << what;
    }
  };
  ExperimentConfig bad = c;
  // The csv format takes any column as a feature; MovieLens data only the
  // names its files have.
  bad = c;
  bad.data_format = "csv";
  bad.csv.ratings_file = "ratings.csv";
  bad.csv.user = ColumnRef::named("user");
  bad.csv.item = ColumnRef::named("item");
  bad.side_features.user = {"country", "3"};
  EXPECT_NO_THROW(bad.validate());
  bad.data_format = "auto";
  bad.csv = {};
  expect_error(bad, "unknown user feature 'country'", "csv format");
  ExperimentConfig csv = c;
  csv.data_format = "csv";
  csv.csv.ratings_file = "ratings.csv";
  csv.side_features.user = {"timestamp"};
  csv.side_features.timestamp_buckets = 2;
  expect_error(csv, "'timestamp' clashes", "timestamp_buckets");
}

// The csv format's side features: a users file and a ratings-file column for
// the user tower, a multi-valued items-file column for the item tower,
// string ids; then training, the model file and recommendations.
TEST(SideFeatures, CsvColumnsFeedTheTowers) {
  const fs::path dir = fs::temp_directory_path() / ("tandem_side_csv_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream r(dir / "events.csv"), u(dir / "users.tsv"), m(dir / "items.csv");
    r << "who,what,stars,device\n";
    Rng rng(3);
    for (int i = 0; i < 600; ++i) {
      const int user = static_cast<int>(rng.below(20)), item = static_cast<int>(rng.below(15));
      // A user's device is fixed by its first row; later rows disagree.
      r << "u" << user << ",i" << item << ',' << 1 + (user + item) % 5 << ','
        << (i < 100 ? (user % 2 ? "phone" : "web") : "tv") << '\n';
    }
    u << "id\tplan\n";
    for (int user = 0; user < 18; ++user) u << 'u' << user << '\t' << (user % 3 ? "free" : "pro") << '\n';
    u << "nobody\tpro\n";  // rated nothing: skipped
    m << "item,name,tags\n";
    for (int item = 0; item < 16; ++item)
      m << 'i' << item << ",\"Item, " << item << "\"," << (item == 3 ? "" : item % 2 ? "a|b" : "b") << '\n';
  }
  ExperimentConfig c = testing::tiny_config("tfrs", dir);
  c.data_dir.clear();
  c.data_format = "csv";
  c.csv.ratings_file = (dir / "events.csv").string();
  c.csv.users_file = (dir / "users.tsv").string();
  c.csv.items_file = (dir / "items.csv").string();
  c.csv.user = ColumnRef::named("who");
  c.csv.item = ColumnRef::named("what");
  c.csv.rating = ColumnRef::named("stars");
  c.csv.item_id = ColumnRef::named("item");
  c.csv.item_title = ColumnRef::named("name");
  c.csv.user_file_id = ColumnRef::named("id");
  c.csv.list_separator = "|";
  c.train_count = 500;
  c.test_count = 100;
  c.side_features.user = {"plan"};
  c.side_features.item = {"tags"};
  c.side_features.feature_dim = 4;
  c.side_features.tower_layers = {8};

  const PreparedData data = prepare_data(c);
  const IdTable users(*data.names.users), items(*data.names.items);
  const auto user_row = [&](const char* name) { return *data.users.find(*users.find(name)); };
  const auto item_row = [&](const char* name) { return *data.items.find(*items.find(name)); };
  const auto& plan = feature(data.towers.user, "plan");
  EXPECT_EQ(plan.vocabulary, (std::vector<std::string>{"free", "pro"}));
  EXPECT_EQ(bag(plan, user_row("u0")), std::vector<int32_t>{2});
  EXPECT_EQ(bag(plan, user_row("u1")), std::vector<int32_t>{1});
  EXPECT_EQ(bag(plan, user_row("u19")), std::vector<int32_t>{0});  // no users-file line: OOV
  const auto& tags = feature(data.towers.item, "tags");
  EXPECT_EQ(tags.vocabulary, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(bag(tags, item_row("i1")), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(bag(tags, item_row("i2")), std::vector<int32_t>{2});
  EXPECT_TRUE(bag(tags, item_row("i3")).empty());  // empty field: no value

  // Without a users file the column comes from the ratings file, first row winning.
  ExperimentConfig from_ratings = c;
  from_ratings.csv.users_file.clear();
  from_ratings.side_features.user = {"device"};
  const PreparedData d2 = prepare_data(from_ratings);
  const auto& device = feature(d2.towers.user, "device");
  const IdTable users2(*d2.names.users);
  std::map<std::string, std::string> first_device;  // what each user's first row says
  {
    std::ifstream r(dir / "events.csv");
    std::string line;
    std::getline(r, line);
    while (std::getline(r, line)) {
      const std::string who = line.substr(0, line.find(','));
      first_device.emplace(who, line.substr(line.rfind(',') + 1));
    }
  }
  for (const auto& [who, dev] : first_device) {
    const int32_t row = *d2.users.find(*users2.find(who));
    const auto b = bag(device, row);
    ASSERT_EQ(b.size(), 1u) << who;
    EXPECT_EQ(device.vocabulary[static_cast<size_t>(b[0] - 1)], dev) << who;
  }

  auto [model, result] = train_and_evaluate(c, data, "joint");
  EXPECT_TRUE(std::isfinite(result.eval.rmse));
  const std::string path = (dir / "m.tandem").string();
  save_model(path, model);
  const TrainedModel loaded = load_model(path);
  EXPECT_EQ(loaded.config.csv.users_file, c.csv.users_file);
  EXPECT_EQ(loaded.config.csv.list_separator, "|");
  const std::string u0 = "u0";  // a string-id model takes its own strings
  {
    const Recommender rec_a(std::move(model)), rec_b(load_model(path));
    const auto a = rec_a.recommend(u0, 5, 5, false).items, b = rec_b.recommend(u0, 5, 5, false).items;
    ASSERT_EQ(a.size(), 5u);
    ASSERT_EQ(b.size(), 5u);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].item_id, b[i].item_id);
  }

  // A feature column the file lacks is named with the file.
  ExperimentConfig missing = c;
  missing.side_features.user = {"country"};
  try {
    prepare_data(missing);
    FAIL() << "accepted a missing column";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("users.tsv:1: no column named 'country'"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(SideFeatures, SavedModelGivesIdenticalRecommendations) {
  const fs::path dir = write_tiny_with_features("roundtrip");
  const ExperimentConfig c = feature_config(dir);
  const PreparedData data = prepare_data(c);
  auto [model, result] = train_and_evaluate(c, data, "joint");
  EXPECT_TRUE(std::isfinite(result.eval.rmse));
  const std::string path = (dir / "m.tandem").string();
  save_model(path, model);
  const TrainedModel loaded = load_model(path);
  EXPECT_EQ(loaded.config.side_features.tower_layers, std::vector<int64_t>{8});
  ASSERT_TRUE(loaded.model->shape().has_towers());
  EXPECT_EQ(loaded.model->sparse_parameter_values().size(), model.model->sparse_parameter_values().size());
  const EvalResult e1 = evaluate(*model.model, c, data.catalogue, data.test, data.test_ratings);
  const EvalResult e2 = evaluate(*loaded.model, loaded.config, loaded.catalogue, data.test, data.test_ratings);
  EXPECT_EQ(e1.rmse, e2.rmse);
  EXPECT_EQ(e1.topk_accuracy, e2.topk_accuracy);
  EXPECT_EQ(e1.rmse, result.eval.rmse);
  const Recommender rec_a(std::move(model)), rec_b(load_model(path));
  for (const char* user : {"1", "4", "29"}) {
    const auto a = rec_a.recommend(user, 10, 20, false).items;
    const auto b = rec_b.recommend(user, 10, 20, false).items;
    ASSERT_EQ(a.size(), 10u);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].item_id, b[i].item_id);
      EXPECT_EQ(a[i].score, b[i].score);
      EXPECT_EQ(a[i].predicted_rating, b[i].predicted_rating);
    }
  }
  fs::remove_all(dir);
}

TEST(SideFeatures, OffByDefaultAndConfigRoundTrips) {
  const ExperimentConfig plain = preset_config("tfrs");
  EXPECT_FALSE(plain.side_features.enabled());
  EXPECT_FALSE(plain.to_json().contains("side_features"));
  ExperimentConfig c = plain;
  c.side_features.item = {"genres"};
  c.side_features.user = {"gender"};
  c.side_features.hash_buckets = 100;
  const ExperimentConfig back = ExperimentConfig::from_json(c.to_json());
  EXPECT_EQ(back.side_features.item, std::vector<std::string>{"genres"});
  EXPECT_EQ(back.side_features.hash_buckets, 100);
}

TEST(SideFeatures, MovieLens1mLayout) {
  const fs::path dir = fs::temp_directory_path() / ("tandem_side_1m_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream r(dir / "ratings.dat"), u(dir / "users.dat"), m(dir / "movies.dat");
    Rng rng(2);
    for (int i = 0; i < 300; ++i)
      r << 1 + rng.below(12) << "::" << 1 + rng.below(9) << "::" << 1 + rng.below(5) << "::" << 970000000 + i << '\n';
    for (int i = 1; i <= 12; ++i) u << i << "::" << (i % 2 ? 'F' : 'M') << "::" << (i % 3 ? 25 : 56) << "::" << i % 5 << "::" << 48000 + i << '\n';
    for (int i = 1; i <= 9; ++i) m << i << "::Film " << i << " (19" << 80 + i << ")::" << (i % 2 ? "Drama|Comedy" : "Action") << '\n';
  }
  ExperimentConfig c = testing::tiny_config("tfrs", dir);
  c.train_count = 250;
  c.test_count = 50;
  c.side_features.user = {"age", "occupation"};
  c.side_features.item = {"genres", "year"};
  const PreparedData data = prepare_data(c);
  const auto& genres = feature(data.towers.item, "genres");
  EXPECT_EQ(genres.vocabulary, (std::vector<std::string>{"Action", "Comedy", "Drama"}));
  EXPECT_EQ(bag(genres, *data.items.find(1)), (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(feature(data.towers.item, "year").vocabulary.size(), 9u);
  // Ages 25 and 56 fall in MovieLens-1M's groups 2 and 6.
  EXPECT_EQ(feature(data.towers.user, "age").vocabulary, (std::vector<std::string>{"2", "6"}));
  const auto [model, result] = train_and_evaluate(c, data, "joint");
  EXPECT_TRUE(std::isfinite(result.eval.rmse));
  fs::remove_all(dir);
}

TEST(SideFeatures, TomlKeysAndTheirRoundTrip) {
  const ExperimentConfig c = parse_config_toml(
      "preset = \"tfrs\"\n[features]\nuser = [\"age\", \"zip\"]\nitem = [\"genres\"]\n"
      "timestamp_buckets = 6\nfeature_dim = 8\ntower_layers = [64, 32]\nhash_buckets = 500\n"
      "zip_prefix = 2\nage_boundaries = [20, 40]\n",
      "f.toml", "", "");
  const FeatureConfig& f = c.side_features;
  EXPECT_EQ(f.user, (std::vector<std::string>{"age", "zip"}));
  EXPECT_EQ(f.item, std::vector<std::string>{"genres"});
  EXPECT_EQ(f.timestamp_buckets, 6);
  EXPECT_EQ(f.feature_dim, 8);
  EXPECT_EQ(f.tower_layers, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(f.hash_buckets, 500);
  EXPECT_EQ(f.zip_prefix, 2);
  EXPECT_EQ(f.age_boundaries, (std::vector<int64_t>{20, 40}));
  const ExperimentConfig back = parse_config_toml(config_to_toml(c), "printed.toml", "", "");
  EXPECT_EQ(back.to_json(), c.to_json());
  // Without features nothing is printed, so the presets print as before.
  EXPECT_EQ(config_to_toml(preset_config("tfrs")).find("tower_layers"), std::string::npos);
  try {
    parse_config_toml("[features]\nuser = [\"shoe_size\"]\n", "bad.toml", "", "");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown user feature 'shoe_size'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tandem
