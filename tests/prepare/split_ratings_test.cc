// The data options end to end: split strategies through prepare_data and
// evaluate's re-created split, the generic csv format (integer and string
// ids, weights) through training and the model file, and their config keys.
#include "tandem/prepare/split_ratings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "support/movielens_data.h"
#include "support/tiny_movielens.h"
#include "tandem/config/config_file.h"
#include "tandem/experiment/experiment.h"
#include "tandem/artifact/reference_split.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

#define EXPECT_HAS(msg, part) EXPECT_NE(std::string(msg).find(part), std::string::npos) << (msg)

class SplitRatingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_split_ratings_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    testing::write_tiny_movielens(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The tiny u.data rewritten as a generic csv: columns shuffled, an extra
  // column, ids optionally prefixed (strings), a weight column.
  std::string write_csv(const std::string& prefix) const {
    const Ratings r = load_ratings((dir_ / "u.data").string());
    const fs::path path = dir_ / "ratings.csv";
    std::ofstream out(path);
    out << "when,item,note,who,stars,w\n";
    for (size_t i = 0; i < r.size(); ++i)
      out << r.timestamps[i] << ',' << prefix << r.items[i] << ",\"x, y\"," << prefix << r.users[i] << ','
          << r.ratings[i] << ',' << (i % 4) * 0.5 << '\n';
    std::ofstream items(dir_ / "items.tsv");
    items << "title\tid\n";
    for (int m = 1; m <= 42; ++m) items << "Film " << m << '\t' << prefix << m << '\n';
    return path.string();
  }

  ExperimentConfig csv_config(const std::string& preset, const std::string& path) const {
    ExperimentConfig c = testing::tiny_config(preset, dir_);
    c.data_format = "csv";
    c.csv.ratings_file = path;
    c.csv.items_file = (dir_ / "items.tsv").string();
    c.csv.user = ColumnRef::named("who");
    c.csv.item = ColumnRef::named("item");
    c.csv.rating = ColumnRef::named("stars");
    c.csv.timestamp = ColumnRef::named("when");
    c.csv.item_id = ColumnRef::named("id");
    c.csv.item_title = ColumnRef::named("title");
    return c;
  }

  fs::path dir_;
};

TEST_F(SplitRatingsTest, LeaveLastOutTestsEachUsersLatestAndEvaluateRecreatesIt) {
  ExperimentConfig c = testing::tiny_config("kerasrs", dir_);
  c.split = SplitStrategy::kLeaveLastOut;
  const SplitRatings s = load_split_ratings(c);
  // Every tiny user has many ratings: one test pair each.
  std::map<int64_t, int64_t> latest_train;
  for (size_t i = 0; i < s.train.size(); ++i)
    latest_train[s.train.users[i]] = std::max(latest_train[s.train.users[i]], s.train.timestamps[i]);
  EXPECT_EQ(s.test.size(), latest_train.size());
  EXPECT_EQ(s.train.size() + s.test.size(), 1200u);
  for (size_t i = 0; i < s.test.size(); ++i) EXPECT_GT(s.test.timestamps[i], latest_train[s.test.users[i]]);
  EXPECT_NE(s.source.find("leave-last-out"), std::string::npos) << s.source;

  const PreparedData data = prepare_data(c);
  auto [model, result] = train_and_evaluate(c, data, "joint");
  const fs::path file = dir_ / "m.tandem";
  save_model(file.string(), model);
  const PreparedData again = model_test_set(load_model(file.string()), "", "");
  EXPECT_EQ(again.test.users, data.test.users);
  EXPECT_EQ(again.test.items, data.test.items);
}

TEST_F(SplitRatingsTest, TimeSplitPutsThePastInTrain) {
  ExperimentConfig c = testing::tiny_config("kerasrs", dir_);
  c.split = SplitStrategy::kTime;
  c.time_cut_fraction = 0.75;
  const SplitRatings s = load_split_ratings(c);
  EXPECT_EQ(s.train.size(), 900u);
  EXPECT_EQ(s.test.size(), 300u);
  EXPECT_LE(*std::max_element(s.train.timestamps.begin(), s.train.timestamps.end()),
            *std::min_element(s.test.timestamps.begin(), s.test.timestamps.end()));
  c.time_cut_timestamp = 880000000 + 1000;  // tiny timestamps are 880000000 + row
  const SplitRatings t = load_split_ratings(c);
  EXPECT_EQ(t.train.size(), 1000u);
  EXPECT_EQ(t.test.size(), 200u);
}

TEST_F(SplitRatingsTest, TimeBasedSplitsNeedTimestamps) {
  ExperimentConfig c = csv_config("kerasrs", write_csv(""));
  c.csv.timestamp = {};
  c.split = SplitStrategy::kTime;
  EXPECT_HAS(error_of([&] { load_split_ratings(c); }), "has no timestamps, which the time split needs");
  c.split = SplitStrategy::kLeaveLastOut;
  EXPECT_HAS(error_of([&] { load_split_ratings(c); }), "leave-last-out split needs");
}

TEST_F(SplitRatingsTest, CsvWithIntegerIdsTrainsLikeTheSameDataAsUData) {
  const ExperimentConfig plain = testing::tiny_config("kerasrs", dir_);
  const ExperimentConfig csv = csv_config("kerasrs", write_csv(""));
  const PreparedData a = prepare_data(plain);
  const PreparedData b = prepare_data(csv);
  EXPECT_EQ(a.train.users, b.train.users);
  EXPECT_EQ(a.train.items, b.train.items);
  EXPECT_EQ(a.train.labels, b.train.labels);
  EXPECT_EQ(b.catalogue.items.titles[0], "Film 1");
  EXPECT_EQ(b.names.users, nullptr);
  const RunResult ra = train_and_evaluate(plain, a, "joint").second;
  const RunResult rb = train_and_evaluate(csv, b, "joint").second;
  EXPECT_EQ(ra.eval.topk_accuracy, rb.eval.topk_accuracy);
  EXPECT_EQ(ra.eval.rmse, rb.eval.rmse);
}

TEST_F(SplitRatingsTest, WeightsReachTheExamples) {
  const ExperimentConfig c = [&] {
    ExperimentConfig x = csv_config("kerasrs", write_csv(""));
    x.csv.weight = ColumnRef::named("w");
    return x;
  }();
  const SplitRatings s = load_split_ratings(c);
  const PreparedData d = prepare_data(c);
  ASSERT_EQ(d.train.weights.size(), d.train.size());
  EXPECT_EQ(d.train.weights, s.train.weights);
  EXPECT_EQ(std::set<float>(d.train.weights.begin(), d.train.weights.end()),
            (std::set<float>{0.0f, 0.5f, 1.0f, 1.5f}));
  EXPECT_EQ(d.test.weights.size(), d.test.size());
  // Without a weight column the examples carry none (= all 1).
  EXPECT_TRUE(prepare_data(csv_config("kerasrs", write_csv(""))).train.weights.empty());
}

TEST_F(SplitRatingsTest, StringIdsTrainSaveLoadAndResolveByName) {
  ExperimentConfig c = csv_config("tfrs", write_csv("u"));  // ids "u1", "u2", ...
  const PreparedData data = prepare_data(c);
  ASSERT_NE(data.names.users, nullptr);
  ASSERT_NE(data.names.items, nullptr);
  EXPECT_EQ(data.catalogue.size(), 42u);  // the items file's 42, two never rated
  EXPECT_EQ(data.catalogue.items.titles[0], "Film 1");
  auto [model, result] = train_and_evaluate(c, data, "joint");
  EXPECT_GT(result.eval.topk_accuracy, 0.0);

  const fs::path file = dir_ / "s.tandem";
  save_model(file.string(), model);
  const TrainedModel back = load_model(file.string());
  ASSERT_NE(back.names.users, nullptr);
  EXPECT_EQ(*back.names.users, *data.names.users);
  const auto id = back.user_id_of("u7");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(back.user_name(*id), "u7");
  EXPECT_EQ(back.user_id_of("7"), std::nullopt);
  EXPECT_TRUE(back.users.find(*id).has_value());
  EXPECT_EQ(back.item_name(back.catalogue.items.item_ids[0]), "u1");

  // evaluate re-creates the same test set from the stored config and names.
  const PreparedData again = model_test_set(back, "", "");
  EXPECT_EQ(again.test.users, data.test.users);
  EXPECT_EQ(again.test.items, data.test.items);

  // The same file with integer ids is an error naming the line and column.
  c.id_mode = IdMode::kInteger;
  c.item_key = ItemKey::kId;  // title keys need a vocabulary (refused before the data is read)
  const std::string msg = error_of([&] { prepare_data(c); });
  EXPECT_HAS(msg, "ratings.csv:2: column 3 ('who') (user): 'u");
  EXPECT_HAS(msg, "vocabulary id mode");
}

TEST(DataConfig, TomlKeysRoundTripAndValidate) {
  const ExperimentConfig c = parse_config_toml(R"(
preset = "tfrs"
[data]
format = "csv"
ratings_file = "r.tsv"
items_file = "/abs/items.csv"
users_file = "users.tsv"
separator = "tab"
list_separator = "|"
header = true
split = "time"
[data.columns]
user = "userId"
item = 1
timestamp = "ts"
weight = 4
[data.item_columns]
id = "movieId"
title = 2
[data.user_columns]
id = "uid"
[split]
time_cut_fraction = 0.7
time_cut_timestamp = 123
)",
                                               "cfg.toml", "", "/base");
  EXPECT_EQ(c.data_format, "csv");
  EXPECT_EQ(c.csv.ratings_file, "/base/r.tsv");
  EXPECT_EQ(c.csv.items_file, "/abs/items.csv");
  EXPECT_EQ(c.csv.separator, "tab");
  EXPECT_EQ(c.csv.user, ColumnRef::named("userId"));
  EXPECT_EQ(c.csv.item, ColumnRef::at(1));
  EXPECT_FALSE(c.csv.rating.mapped());
  EXPECT_EQ(c.csv.weight, ColumnRef::at(4));
  EXPECT_EQ(c.csv.item_title, ColumnRef::at(2));
  EXPECT_EQ(c.csv.users_file, "/base/users.tsv");
  EXPECT_EQ(c.csv.list_separator, "|");
  EXPECT_EQ(c.csv.user_file_id, ColumnRef::named("uid"));
  EXPECT_EQ(c.split, SplitStrategy::kTime);
  EXPECT_EQ(c.time_cut_fraction, 0.7);
  EXPECT_EQ(c.time_cut_timestamp, 123);

  const ExperimentConfig printed = parse_config_toml(config_to_toml(c), "printed.toml");
  EXPECT_EQ(printed.to_json(), c.to_json()) << config_to_toml(c);
  EXPECT_EQ(printed.csv, c.csv);
  const ExperimentConfig json = ExperimentConfig::from_json(c.to_json());
  EXPECT_EQ(json.csv, c.csv);
  EXPECT_EQ(json.split, c.split);
  EXPECT_EQ(json.time_cut_timestamp, c.time_cut_timestamp);

  // A model file written before these keys existed loads with the defaults.
  nlohmann::json old = preset_config("kerasrs").to_json();
  for (const char* k : {"split", "time_cut_fraction", "time_cut_timestamp", "csv"}) old["data"].erase(k);
  const ExperimentConfig from_old = ExperimentConfig::from_json(old);
  EXPECT_EQ(from_old.split, SplitStrategy::kRandom);
  EXPECT_EQ(from_old.time_cut_fraction, 0.8);
  EXPECT_EQ(from_old.csv, CsvRatingsSpec{});

  const auto err = [](const std::string& text) { return error_of([&] { parse_config_toml(text, "e.toml"); }); };
  EXPECT_HAS(err("[data]\nratings_file = \"r.csv\"\n"), "apply to the csv data format only");
  EXPECT_HAS(err("[data]\nformat = \"csv\"\n"), "needs a ratings file");
  EXPECT_HAS(err("[data]\nsplit = \"latest\"\n"), "'data.split' must be one of random, leave-last-out, time");
  EXPECT_HAS(err("[data]\nformat = \"csv\"\nratings_file = \"r\"\n[data.columns]\nuser = -1\n"),
             "e.toml:5: 'data.columns.user' must be a column name");
  EXPECT_HAS(err("[data]\nformat = \"csv\"\nratings_file = \"r\"\n[data.columns]\nusr = 0\n"),
             "unknown key 'data.columns.usr'");
  EXPECT_HAS(err("[data]\nformat = \"csv\"\nratings_file = \"r\"\nseparator = \"::\"\n"), "unknown separator");
  EXPECT_HAS(err("[data]\nsplit = \"time\"\ntrain_file = \"a\"\ntest_file = \"b\"\n"),
             "cannot be combined with --train/--test");
  EXPECT_HAS(err("[split]\ntime_cut_fraction = 1.5\n"), "time_cut_fraction must be in (0, 1]");
}

// MovieLens-100K itself ($TANDEM_DATA or ../shared/data/ml-100k); missing
// data fails unless TANDEM_ALLOW_MISSING_DATA=1.
TEST(RealData, MovieLens100kTimeBasedSplits) {
  TANDEM_REQUIRE_MOVIELENS();
  const fs::path dir = testing::movielens_dir();
  ExperimentConfig c = preset_config("kerasrs");
  c.data_dir = dir.string();

  c.split = SplitStrategy::kLeaveLastOut;
  const SplitRatings l = load_split_ratings(c);
  EXPECT_EQ(l.test.size(), 943u);  // every user has >= 20 ratings: one test pair each
  EXPECT_EQ(l.train.size(), 100000u - 943u);
  std::map<int64_t, int64_t> latest_train;
  for (size_t i = 0; i < l.train.size(); ++i)
    latest_train[l.train.users[i]] = std::max(latest_train[l.train.users[i]], l.train.timestamps[i]);
  EXPECT_EQ(std::set<int64_t>(l.test.users.begin(), l.test.users.end()).size(), 943u);
  for (size_t i = 0; i < l.test.size(); ++i) ASSERT_GE(l.test.timestamps[i], latest_train[l.test.users[i]]);

  c.split = SplitStrategy::kTime;
  const SplitRatings t = load_split_ratings(c);
  EXPECT_EQ(t.train.size(), 80000u);
  EXPECT_EQ(t.test.size(), 20000u);
  EXPECT_LE(*std::max_element(t.train.timestamps.begin(), t.train.timestamps.end()),
            *std::min_element(t.test.timestamps.begin(), t.test.timestamps.end()));
}

}  // namespace
}  // namespace tandem
