// The data flags end to end on MovieLens-100K: --split strategies through
// train and evaluate, and the generic csv format with string ids through
// train, evaluate and recommend.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "e2e_util.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;

class DataOptions : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_data_options_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // u.data as a tab-separated file with a header, string user ids ("user5")
  // and item ids ("m242"),
  // columns reordered and an extra one.
  std::string write_string_id_tsv() const {
    std::ifstream in(fs::path(movielens_dir()) / "u.data");
    const std::string out_path = path("ratings.tsv");
    std::ofstream out(out_path);
    out << "item\tts\tuser\textra\trating\n";
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string u, i, r, t;
      f >> u >> i >> r >> t;
      out << 'm' << i << '\t' << t << "\tuser" << u << "\tx\t" << r << '\n';
    }
    return out_path;
  }
  fs::path dir_;
};

TEST_F(DataOptions, TimeSplitTrainsAndEvaluateRecreatesIt) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::string model = path("time.tandem");
  auto train = run_tandem("train --preset kerasrs --data '" + movielens_dir() +
                          "' --split time --time-cut-fraction 0.9 --epochs 1 --threads 1 --json --quiet --output '" +
                          model + "'");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const auto t = nlohmann::json::parse(train.out);
  EXPECT_EQ(t["test"]["pairs"], 10000);
  auto eval = run_tandem("evaluate --json --threads 1 --model '" + model + "'");
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const auto e = nlohmann::json::parse(eval.out);
  EXPECT_EQ(e["test"]["pairs"], 10000);
  EXPECT_DOUBLE_EQ(e["rmse"].get<double>(), t["rmse"].get<double>());
}

TEST_F(DataOptions, CsvWithStringIdsTrainsEvaluatesAndRecommends) {
  TANDEM_REQUIRE_MOVIELENS();
  const std::string tsv = write_string_id_tsv();
  const std::string model = path("strings.tandem");
  const std::string csv_flags = "--format csv --ratings-file '" + tsv +
                                "' --user-column user --item-column 0 --rating-column rating "
                                "--timestamp-column ts --split leave-last-out";
  auto train = run_tandem("train --preset tfrs " + csv_flags +
                          " --epochs 1 --threads 1 --json --quiet --output '" + model + "'");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const auto t = nlohmann::json::parse(train.out);
  EXPECT_EQ(t["test"]["pairs"], 943);  // one per user: all have >= 20 ratings

  auto eval = run_tandem("evaluate --json --threads 1 --model '" + model + "'");
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(eval.out)["rmse"].get<double>(), t["rmse"].get<double>());

  auto rec = run_tandem("recommend --json --model '" + model + "' --user user5 --k 10");
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  const auto r = nlohmann::json::parse(rec.out);
  EXPECT_EQ(r["items"].size(), 10u);
  EXPECT_FALSE(r.value("cold_start", false));
  // Items are named as in the data, not by their interned numbers.
  for (const auto& it : r["items"]) {
    ASSERT_TRUE(it["item_id"].is_string()) << it.dump();
    EXPECT_EQ(it["item_id"].get<std::string>().rfind('m', 0), 0u) << it.dump();
  }
  // "5" is not one of this model's user ids: a cold-start answer.
  auto unknown = run_tandem("recommend --model '" + model + "' --user 5");
  ASSERT_EQ(unknown.exit_code, 0) << unknown.err;
  EXPECT_NE(unknown.err.find("user 5 is not in the model"), std::string::npos) << unknown.err;

  // Integer ids cannot read "user5": the error names file, line, column, fix.
  auto integer = run_tandem("train --preset kerasrs " + csv_flags + " --epochs 1 --quiet");
  EXPECT_NE(integer.exit_code, 0);
  EXPECT_NE(integer.err.find("ratings.tsv:2: column 2 ('user') (user): 'user"), std::string::npos)
      << integer.err;
  EXPECT_NE(integer.err.find("vocabulary id mode"), std::string::npos) << integer.err;

  // Without a timestamp column the time-based splits refuse to run.
  auto no_time = run_tandem("train --preset tfrs --format csv --ratings-file '" + tsv +
                            "' --user-column user --item-column item --split time --epochs 1 --quiet");
  EXPECT_NE(no_time.exit_code, 0);
  EXPECT_NE(no_time.err.find("has no timestamps"), std::string::npos) << no_time.err;
}

// A user id of 2^31 cannot be a row of an integer-id table: the real binary
// refuses it naming the file and line, before anything is trained. The file
// has no final newline, and its last line is read like any other.
TEST_F(DataOptions, IntegerIdTooLargeNamesFileAndLine) {
  fs::create_directories(dir_ / "stray");
  {
    std::ofstream data(dir_ / "stray" / "u.data");
    data << "196\t242\t3\t881250949\n186\t302\t3\t891717742\n2147483648\t377\t1\t878887116\n"
         << "244\t51\t2\t880606923";
  }
  auto train = run_tandem("train --preset kerasrs --data '" + path("stray") +
                          "' --train-count 3 --test-count 1 --k 1 --epochs 1 --quiet --output '" +
                          path("never.tandem") + "'");
  EXPECT_EQ(train.exit_code, 1) << train.err;
  EXPECT_EQ(train.err.rfind("tandem: error: " + path("stray") +
                                "/u.data:3: user id 2147483648 is too large for integer ids: its embedding "
                                "table would need 2147483649 rows, and at most 2147483646 are supported; ids "
                                "that are not small integers need the vocabulary id mode",
                            0),
            0u)
      << train.err;
  EXPECT_FALSE(fs::exists(path("never.tandem")));
}

}  // namespace
}  // namespace tandem::testing
