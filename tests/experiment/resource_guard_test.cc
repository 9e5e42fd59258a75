#include "tandem/experiment/resource_guard.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/tiny_movielens.h"
#include "tandem/experiment/experiment.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ResourceGuard, ParseByteSizes) {
  EXPECT_EQ(parse_byte_size("1073741824"), int64_t{1} << 30);
  EXPECT_EQ(parse_byte_size("512M"), int64_t{512} << 20);
  EXPECT_EQ(parse_byte_size("512mb"), int64_t{512} << 20);
  EXPECT_EQ(parse_byte_size("1.5G"), int64_t{3} << 29);
  EXPECT_EQ(parse_byte_size("64k"), 65536);
  EXPECT_EQ(parse_byte_size(" 2 T "), int64_t{2} << 40);
  for (const char* bad : {"", "G", "-1G", "0", "12Q", "nan", "1e400", "abc", "1.5.2M"})
    EXPECT_NE(error_of([bad] { parse_byte_size(bad); }).find("memory size"), std::string::npos) << bad;
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(int64_t{3} << 29), "1.50 GiB");
}

// Hand-computed for one small shape: d = 4, head 8 -> 1, batch 10, 1 worker.
TEST(ResourceGuard, EstimateAddsThePartsByHand) {
  ExperimentConfig c = preset_config("kerasrs");
  c.embedding_dim = 4;
  c.layer_sizes = {8};
  c.batch_size = 10;
  c.threads = 1;
  const MemoryEstimate e = estimate_training_memory(c, 100, 50, 1000);
  ASSERT_EQ(e.parts.size(), 7u);
  EXPECT_EQ(e.parts[0].bytes, 100 * 4 * 8);                // users: weights + accumulators
  EXPECT_EQ(e.parts[1].bytes, 50 * 4 * 8);                 // items
  EXPECT_EQ(e.parts[2].bytes, 101 * 8 + 1000 * 4 + 50 * 8);  // offsets, seen, counts
  const int64_t head = (8 * 8 + 8) + (8 + 1);              // 8->8 layer, 8->1 layer
  EXPECT_EQ(e.parts[3].bytes, head * 4 * 4);               // weights, acc, grads, 1 worker
  EXPECT_EQ(e.parts[4].bytes, 10 * (4 * 4 + 2 * (8 + 8 + 1)) * 4  // gathered vectors, head activations
                                 + 8                                // one worker's loss sum
                                 // users' sparse gradient: rows, slot index, row list,
                                 // each example's slot and each slot's first example
                                 + (10 * 4 * 4 + 100 * 4 + 3 * 10 * 4)
                                 + (10 * 4 * 4 + 50 * 4 + 3 * 10 * 4)  // items'
                                 + (10 + 11) * 4 + 10 * 8);         // the ranking loss's workspace
  // The retrieval softmax for a 10-batch: index arrays (by query, offsets,
  // copy ring, example ids, column items), one worker's 10-row score block
  // and its per-column exps, dlogits, kept and order, its loss sum, the
  // users', items' and examples' batch indexes, the distinct rows and their
  // gradients, per column a log-weight and correction, and the item -> column map.
  EXPECT_EQ(e.parts[5].bytes, (10 + 11 + 10 + 10 + 10) * 4 + (10 * 10 + 3 * 10) * 4 + 10 * 4 + 8 +
                                  (100 + 4 * 10) * 4 + (50 + 4 * 10) * 4 + (10 + 4 * 10) * 4 +
                                  (2 * 10 * 4 + 2 * 10 * 4 + 2 * 10) * 4 + 50 * 4);
  EXPECT_EQ(e.parts[6].bytes, (int64_t{4} << 20) * 4);
  int64_t sum = 0;
  for (const auto& p : e.parts) sum += p.bytes;
  EXPECT_EQ(e.total(), sum);
  // Absurd sizes saturate instead of wrapping round to something small.
  const MemoryEstimate huge = estimate_training_memory(c, int64_t{1} << 62, 50, 1000);
  EXPECT_EQ(huge.total(), std::numeric_limits<int64_t>::max());
}

class ResourceGuardData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tandem_guard_" + std::to_string(::getpid()));
    testing::write_tiny_movielens(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ResourceGuardData, KAboveTheCatalogueIsRefusedBeforeTraining) {
  ExperimentConfig c = testing::tiny_config("kerasrs", dir_);
  c.k = 43;  // the catalogue holds 42 items
  const PreparedData data = prepare_data(c);
  const std::string e = error_of([&] { check_training_resources(c, data); });
  EXPECT_NE(e.find("k = 43 is above the catalogue size (42 items)"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { train_and_evaluate(c, data, "joint"); }), "no error");
  c.k = 42;
  EXPECT_EQ(error_of([&] { check_training_resources(c, data); }), "no error");
}

TEST_F(ResourceGuardData, BudgetNamesTheLargestParts) {
  ExperimentConfig c = testing::tiny_config("kerasrs", dir_);
  const PreparedData data = prepare_data(c);
  c.memory_budget_bytes = 1024;  // far below the 16 MiB evaluation scratch alone
  const std::string e = error_of([&] { check_training_resources(c, data); });
  EXPECT_NE(e.find("above the memory budget of 1.00 KiB (--memory-budget)"), std::string::npos) << e;
  EXPECT_NE(e.find("evaluation scratch"), std::string::npos) << e;
  EXPECT_NE(e.find("stray large ids"), std::string::npos) << e;  // integer ids: the likely cause
  c.memory_budget_bytes = int64_t{1} << 30;
  EXPECT_EQ(error_of([&] { check_training_resources(c, data); }), "no error");
  c.memory_budget_bytes = -1;
  EXPECT_NE(error_of([&] { c.validate(); }).find("--memory-budget ([training] memory_budget) must be in 0.."),
            std::string::npos);
}

// With integer ids one stray large id makes a huge table: the budget's
// message keeps naming the largest parts and adds where that id was read.
TEST_F(ResourceGuardData, BudgetNamesTheLineOfTheIdBehindATable) {
  std::ofstream(dir_ / "u.data", std::ios::app) << "2000000000\t3\t4\t880001300\n";  // line 1201
  ExperimentConfig c = testing::tiny_config("kerasrs", dir_);
  c.memory_budget_bytes = int64_t{8} << 30;
  const PreparedData data = prepare_data(c);
  const std::string e = error_of([&] { check_training_resources(c, data); });
  EXPECT_EQ(e.rfind("training would need about ", 0), 0u) << e;
  EXPECT_NE(e.find("above the memory budget of 8.00 GiB (--memory-budget). Largest parts: user embedding table + "
                   "Adagrad state (2000000001 rows x 8): 119.21 GiB; "),
            std::string::npos)
      << e;
  // Only the user table is among the parts named: only its id is located.
  EXPECT_NE(e.find(". With integer ids (kerasrs) a table has max id + 1 rows: check the data for stray large ids (" +
                   (dir_ / "u.data").string() + ":1201: user id 2000000000)"),
            std::string::npos)
      << e;
  EXPECT_EQ(e.find("item id"), std::string::npos) << e;
}

// The towers' part is what the towers of the model built from the same data
// hold, plus the optimizer's state for their parameters (Adagrad: one slot).
TEST_F(ResourceGuardData, TowerPartIsWhatTheBuiltTowersHold) {
  testing::write_tiny_side_files(dir_);
  ExperimentConfig c = testing::tiny_config("tfrs", dir_);
  testing::enable_all_side_features(c);
  c.threads = 1;
  const PreparedData data = prepare_data(c);
  const MemoryEstimate e = estimate_training_memory(c, data);
  ASSERT_NE(e.parts.back().what.find("side-feature towers"), std::string::npos) << e.parts.back().what;
  ModelShape shape = model_shape(c, data.users.rows(), data.items.rows());
  shape.user_tower = data.towers.user;
  shape.item_tower = data.towers.item;
  MultiTaskModel model(shape, std::min<int64_t>(c.batch_size, static_cast<int64_t>(data.train.size())),
                             1, c.retrieval.mixed_negatives);
  const Footprint towers = model.user_tower()->allocated() + model.item_tower()->allocated();
  EXPECT_EQ(e.parts.back().bytes, 2 * towers.parameters + towers.gradients + towers.workspace);
  // Without the data the estimate has no tower part (the tables' rows are unknown).
  for (const auto& p : estimate_training_memory(c, data.users.rows(), data.items.rows(),
                                                static_cast<int64_t>(data.train.size())).parts)
    EXPECT_EQ(p.what.find("side-feature towers"), std::string::npos);
}

}  // namespace
}  // namespace tandem
