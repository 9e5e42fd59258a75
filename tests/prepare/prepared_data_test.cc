// Vocabularies from files: with integer ids a table has max id + 1 rows, so
// an id too large for one is refused naming the file and line that hold it.
#include "tandem/prepare/prepared_data.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/error_of.h"
#include "support/tiny_movielens.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

using testing::error_of;

// What follows the place and the id in every "too large" message.
std::string too_large(const std::string& role, const std::string& id, const std::string& rows) {
  return role + " id " + id + " is too large for integer ids: its embedding table would need " + rows +
         " rows, and at most 2147483646 are supported; ids that are not small integers need the "
         "vocabulary id mode ([features] ids = \"vocabulary\" in a config file, or --preset tfrs)";
}

class PreparedDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_prepared_data_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    testing::write_tiny_movielens(dir_);  // u.data: 1200 lines; u.item: 42
  }
  void TearDown() override { fs::remove_all(dir_); }

  void append(const std::string& file, const std::string& line) const {
    std::ofstream(dir_ / file, std::ios::app) << line;
  }
  std::string path(const std::string& file) const { return (dir_ / file).string(); }

  fs::path dir_;
};

TEST_F(PreparedDataTest, UserIdTooLargeForIntegerIdsNamesFileAndLine) {
  append("u.data", "2147483648\t3\t4\t880001300\n");  // line 1201
  append("u.data", "2147483648\t5\t4\t880001301\n");  // the same id again: the first line is named
  const ExperimentConfig c = testing::tiny_config("kerasrs", dir_);
  EXPECT_EQ(error_of([&] { prepare_data(c); }),
            path("u.data") + ":1201: " + too_large("user", "2147483648", "2147483649"));
  // The largest id that still fits is accepted (its table is the memory
  // guard's business).
  testing::write_tiny_movielens(dir_);
  append("u.data", "2147483645\t3\t4\t880001300\n");
  const PreparedData data = prepare_data(c);
  EXPECT_EQ(data.users.rows(), 2147483646);
  EXPECT_EQ(data.largest_user.place_of(2147483645), path("u.data") + ":1201");
  EXPECT_EQ(data.largest_item.place_of(42), path("u.item") + ":42");  // u.item lists 41 and 42 too
}

TEST_F(PreparedDataTest, ItemIdTooLargeNamesTheItemsFile) {
  append("u.item", "9000000000|Stray (1999)|x|\n");  // line 43
  const ExperimentConfig c = testing::tiny_config("kerasrs", dir_);
  EXPECT_EQ(error_of([&] { prepare_data(c); }),
            path("u.item") + ":43: " + too_large("item", "9000000000", "9000000001"));
}

TEST_F(PreparedDataTest, ExplicitTrainFileIdTooLargeNamesThatFile) {
  {
    std::ofstream train(dir_ / "train.tsv");
    train << "1\t1\t5\t10\n2\t2\t4\t11\n";
    train << "4294967296\t1\t3\t12";  // line 3, without a final newline
    std::ofstream(dir_ / "test.tsv") << "1\t2\t3\t13\n";
  }
  ExperimentConfig c = testing::tiny_config("kerasrs", dir_);
  c.train_file = path("train.tsv");
  c.test_file = path("test.tsv");
  c.k = 1;
  EXPECT_EQ(error_of([&] { prepare_data(c); }),
            path("train.tsv") + ":3: " + too_large("user", "4294967296", "4294967297"));
}

// With vocabulary ids a large id is one more row: no error, and no place is
// kept (no table's size depends on it).
TEST_F(PreparedDataTest, VocabularyIdsTakeLargeIds) {
  append("u.data", "2147483648\t3\t4\t880001300\n");
  const PreparedData data = prepare_data(testing::tiny_config("tfrs", dir_));
  EXPECT_EQ(data.users.rows(), 32);  // 30 users, the large one, the OOV row
  EXPECT_EQ(data.largest_user.line, 0u);
}

}  // namespace
}  // namespace tandem
