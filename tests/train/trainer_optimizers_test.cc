// The trainer with Adam, SGD with momentum, L2 and schedules: it learns,
// resumes exactly, leaves an uncomputed head alone, reports the rate, and
// refuses another optimizer's state.
#include <gtest/gtest.h>

#include <optional>

#include "tandem/core/error.h"
#include "tandem/train/lr_schedule.h"
#include "tandem/train/trainer.h"

namespace tandem {
namespace {

// The planted problem of trainer_test.cc: users watch items of their
// parity, ratings additive in user and item group.
Examples planted(int64_t n, uint64_t seed) {
  Examples ex;
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t u = static_cast<int32_t>(rng.below(20));
    const int32_t m = static_cast<int32_t>(rng.below(15)) * 2 + (u % 2);
    ex.users.push_back(u);
    ex.items.push_back(m);
    ex.labels.push_back(static_cast<float>((u % 4) + (m % 4)) / 6.0f);
  }
  return ex;
}

OptimizerConfig adam(float lr) {
  OptimizerConfig c;
  c.kind = OptimizerKind::kAdam;
  c.learning_rate = lr;
  return c;
}

OptimizerConfig momentum(float lr, bool nesterov) {
  OptimizerConfig c;
  c.kind = OptimizerKind::kSgd;
  c.learning_rate = lr;
  c.momentum = 0.9f;
  c.nesterov = nesterov;
  return c;
}

std::vector<std::vector<float>> head_values(MultiTaskModel& m) {
  std::vector<std::vector<float>> out;
  for (const auto& p : m.dense_parameters()) out.emplace_back(p.value, p.value + p.size);
  return out;
}

TEST(TrainerOptimizers, AdamAndMomentumReduceBothLosses) {
  const Examples ex = planted(2000, 1);
  for (const OptimizerConfig& opt : {adam(0.01f), momentum(0.005f, false), momentum(0.005f, true)}) {
    SCOPED_TRACE(to_string(opt.kind) + (opt.nesterov ? " nesterov" : ""));
    MultiTaskModel model({20, 30, 8, {16, 8}}, 100);
    model.init(1);
    TrainConfig cfg;
    cfg.optimizer = opt;
    cfg.batch_size = 100;
    cfg.epochs = 15;
    Trainer trainer(model, cfg);
    const auto stats = trainer.fit(ex);
    EXPECT_LT(stats.back().ranking_loss, 0.5 * stats.front().ranking_loss);
    EXPECT_LT(stats.back().retrieval_loss, 0.95 * stats.front().retrieval_loss);
  }
}

// The schedule is a function of the global step: stopping anywhere and
// continuing from the saved weights and state gives the uninterrupted run
// bit for bit (Adam's moments, momentum's velocities and the rate included).
TEST(TrainerOptimizers, ContinuingFromSavedStateEqualsUninterruptedRun) {
  const Examples ex = planted(950, 4);  // 10 steps of 100, the last one 50
  OptimizerConfig cosine = adam(0.02f);
  cosine.schedule.kind = LrScheduleKind::kCosine;
  cosine.schedule.warmup_steps = 3;
  cosine.embedding_l2 = 0.01f;
  cosine.dense_l2 = 0.001f;
  OptimizerConfig stepped = momentum(0.05f, true);
  stepped.schedule.kind = LrScheduleKind::kStep;
  stepped.schedule.decay_steps = 7;
  stepped.embedding_l2 = 0.01f;
  for (const OptimizerConfig& opt : {cosine, stepped}) {
    SCOPED_TRACE(to_string(opt.kind));
    TrainConfig cfg;
    cfg.optimizer = opt;
    cfg.batch_size = 100;
    cfg.epochs = 3;
    cfg.shuffle = ShuffleMode::kEveryEpoch;
    cfg.shuffle_seed = 77;
    const ModelShape shape{20, 30, 4, {8}};
    MultiTaskModel reference(shape, 100);
    reference.init(5);
    Trainer ref_trainer(reference, cfg);
    ref_trainer.fit(ex);

    for (int64_t stop : {4, 10, 19}) {
      SCOPED_TRACE("stopped after step " + std::to_string(stop));
      MultiTaskModel first(shape, 100);
      first.init(5);
      Trainer first_trainer(first, cfg);
      std::optional<TrainerState> saved;
      std::vector<float> users, items;
      std::vector<std::vector<float>> head;
      first_trainer.fit(ex, {}, [&](const TrainerState& s) {
        if (s.global_step != stop) return;
        saved = s;
        users = first.user_table().weights;
        items = first.item_table().weights;
        head = head_values(first);
      });
      ASSERT_TRUE(saved.has_value());
      MultiTaskModel resumed(shape, 100);
      resumed.init(6);
      resumed.user_table().weights = users;
      resumed.item_table().weights = items;
      auto params = resumed.dense_parameters();
      for (size_t p = 0; p < params.size(); ++p) std::copy(head[p].begin(), head[p].end(), params[p].value);
      Trainer resumed_trainer(resumed, cfg);
      resumed_trainer.restore(*saved);
      resumed_trainer.fit(ex);
      EXPECT_EQ(resumed.user_table().weights, reference.user_table().weights);
      EXPECT_EQ(resumed.item_table().weights, reference.item_table().weights);
      EXPECT_EQ(head_values(resumed), head_values(reference));
      EXPECT_EQ(resumed_trainer.state().dense_slots, ref_trainer.state().dense_slots);
      EXPECT_EQ(resumed_trainer.state().sparse_slots, ref_trainer.state().sparse_slots);
      EXPECT_EQ(resumed_trainer.state().history.back().total_loss,
                ref_trainer.state().history.back().total_loss);
    }
  }
}

// With the ranking weight 0 the head's gradients are not computed: neither
// the head nor its optimizer state may move, whatever the optimizer (and
// however stale its gradient buffers are).
TEST(TrainerOptimizers, HeadWithoutRankingTaskDoesNotMove) {
  const Examples ex = planted(500, 2);
  OptimizerConfig penalised = adam(0.01f);
  penalised.dense_l2 = 0.5f;  // would move the head even with a zero gradient
  for (const OptimizerConfig& opt : {penalised, momentum(0.05f, false)}) {
    SCOPED_TRACE(to_string(opt.kind));
    MultiTaskModel model({20, 30, 4, {8}}, 100);
    model.init(3);
    // Stale, non-zero gradients left in the head's buffers by a joint step.
    const std::vector<int32_t> u = {1, 2}, m = {3, 4};
    const std::vector<float> y = {0.5f, 0.25f};
    model.compute_gradients({u.data(), m.data(), y.data(), 2}, {1.0f, 1.0f});
    const auto head = head_values(model);
    const auto items = model.item_table().weights;
    TrainConfig cfg;
    cfg.optimizer = opt;
    cfg.weights = {0.0f, 1.0f};
    cfg.batch_size = 100;
    cfg.epochs = 2;
    Trainer trainer(model, cfg);
    const OptimizerSlots fresh = trainer.state().dense_slots[0];
    trainer.fit(ex);
    EXPECT_EQ(head_values(model), head);
    EXPECT_EQ(trainer.state().dense_slots[0], fresh);
    EXPECT_NE(model.item_table().weights, items);  // while the embeddings trained
  }
}

TEST(TrainerOptimizers, EpochStatsReportTheScheduledRate) {
  const Examples ex = planted(1000, 3);  // 10 steps per epoch
  MultiTaskModel model({20, 30, 4, {8}}, 100);
  model.init(1);
  TrainConfig cfg;
  cfg.optimizer = adam(0.01f);
  cfg.optimizer.schedule.kind = LrScheduleKind::kCosine;
  cfg.batch_size = 100;
  cfg.epochs = 3;
  Trainer trainer(model, cfg);
  const auto stats = trainer.fit(ex);
  for (int e = 0; e < 3; ++e) {
    // The epoch's last step has index 10 (e + 1) - 1 of 30.
    EXPECT_EQ(stats[e].learning_rate, learning_rate_at(cfg.optimizer.schedule, 0.01f, 10 * (e + 1) - 1, 30));
  }
  EXPECT_GT(stats[0].learning_rate, stats[1].learning_rate);
  EXPECT_GT(stats[1].learning_rate, stats[2].learning_rate);
}

TEST(TrainerOptimizers, RestoreRefusesAnotherOptimizersState) {
  const Examples ex = planted(300, 6);
  MultiTaskModel model({20, 30, 4, {8}}, 100);
  model.init(1);
  TrainConfig cfg;
  cfg.batch_size = 100;
  cfg.epochs = 1;
  Trainer adagrad_trainer(model, cfg);
  adagrad_trainer.fit(ex);
  cfg.optimizer = adam(0.01f);
  Trainer adam_trainer(model, cfg);
  try {
    adam_trainer.restore(adagrad_trainer.state());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("optimizer adagrad (state: adagrad), this run uses adam (state: adam_m, adam_v)"),
              std::string::npos) << m;
  }
  // Its own state, with a slot of the wrong size, is refused too.
  TrainerState bad = adam_trainer.state();
  bad.sparse_slots[1][1].pop_back();
  EXPECT_THROW(adam_trainer.restore(bad), Error);
  bad = adam_trainer.state();
  bad.dense_slots[0].pop_back();
  EXPECT_THROW(adam_trainer.restore(bad), Error);
  EXPECT_NO_THROW(adam_trainer.restore(adam_trainer.state()));
}

}  // namespace
}  // namespace tandem
