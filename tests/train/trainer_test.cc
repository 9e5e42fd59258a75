#include "tandem/train/trainer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tandem/core/error.h"

namespace tandem {
namespace {

// A small planted problem: user u watches items with the same parity and
// rates them additively by user and item group. Training must reduce both
// losses (retrieval has a floor: few users means many in-batch duplicates).
Examples planted_examples(int64_t n, uint64_t seed) {
  Examples ex;
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t u = static_cast<int32_t>(rng.below(20));
    int32_t m = static_cast<int32_t>(rng.below(15)) * 2 + (u % 2);
    ex.users.push_back(u);
    ex.items.push_back(m);
    ex.labels.push_back(static_cast<float>((u % 4) + (m % 4)) / 6.0f);
  }
  return ex;
}

TEST(Trainer, ReducesBothLosses) {
  const Examples ex = planted_examples(2000, 1);
  MultiTaskModel model({20, 30, 8, {16, 8}}, 100);
  model.init(1);
  TrainConfig cfg;
  cfg.batch_size = 100;
  cfg.epochs = 15;
  Trainer trainer(model, cfg);
  const auto stats = trainer.fit(ex);
  ASSERT_EQ(stats.size(), 15u);
  EXPECT_EQ(stats[0].steps, 20);
  EXPECT_EQ(stats[0].examples, 2000);
  EXPECT_LT(stats.back().ranking_loss, 0.5 * stats.front().ranking_loss);
  EXPECT_LT(stats.back().retrieval_loss, 0.95 * stats.front().retrieval_loss);
}

TEST(Trainer, DeterministicForSeedAndHandlesPartialBatch) {
  const Examples ex = planted_examples(950, 2);  // 9 full batches + one of 50
  auto run = [&](uint64_t shuffle_seed) {
    MultiTaskModel model({20, 30, 4, {8}}, 100);
    model.init(9);
    TrainConfig cfg;
    cfg.batch_size = 100;
    cfg.epochs = 2;
    cfg.reshuffle_each_epoch = true;
    cfg.shuffle_seed = shuffle_seed;
    Trainer trainer(model, cfg);
    const auto stats = trainer.fit(ex);
    EXPECT_EQ(stats[0].steps, 10);
    return model.user_table().weights;
  };
  EXPECT_EQ(run(4), run(4));
  EXPECT_NE(run(4), run(5));
}

TEST(Trainer, StopsWithStepNumberOnNonFiniteLoss) {
  Examples ex = planted_examples(300, 3);
  ex.labels[150] = std::nanf("");
  MultiTaskModel model({20, 30, 4, {8}}, 100);
  model.init(1);
  TrainConfig cfg;
  cfg.batch_size = 100;
  Trainer trainer(model, cfg);
  try {
    trainer.run_epoch(ex);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("step 2"), std::string::npos) << e.what();
  }
}

TEST(Trainer, RejectsBadBatchSize) {
  MultiTaskModel model({4, 4, 2, {2}}, 10);
  TrainConfig cfg;
  cfg.batch_size = 11;
  EXPECT_THROW(Trainer(model, cfg), Error);
  cfg.batch_size = 0;
  EXPECT_THROW(Trainer(model, cfg), Error);
}

}  // namespace
}  // namespace tandem
