#include "tandem/train/trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

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
    cfg.shuffle = ShuffleMode::kEveryEpoch;
    cfg.shuffle_seed = shuffle_seed;
    Trainer trainer(model, cfg);
    const auto stats = trainer.fit(ex);
    EXPECT_EQ(stats[0].steps, 10);
    return model.user_table().weights;
  };
  EXPECT_EQ(run(4), run(4));
  EXPECT_NE(run(4), run(5));
}

// Everything a run's result depends on: the weights and the trainer state.
struct Snapshot {
  std::vector<float> users, items;
  std::vector<std::vector<float>> head;
  TrainerState state;
};

Snapshot snapshot(MultiTaskModel& model, const TrainerState& state) {
  Snapshot s{model.user_table().weights, model.item_table().weights, {}, state};
  for (const auto& p : model.dense_parameters()) s.head.emplace_back(p.value, p.value + p.size);
  return s;
}

void restore_weights(MultiTaskModel& model, const Snapshot& s) {
  model.user_table().weights = s.users;
  model.item_table().weights = s.items;
  auto params = model.dense_parameters();
  for (size_t p = 0; p < params.size(); ++p) std::copy(s.head[p].begin(), s.head[p].end(), params[p].value);
}

void expect_same_stats(const EpochStats& a, const EpochStats& b) {
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.examples, b.examples);
  EXPECT_EQ(a.ranking_loss, b.ranking_loss);  // bit for bit, not approximately
  EXPECT_EQ(a.retrieval_loss, b.retrieval_loss);
  EXPECT_EQ(a.total_loss, b.total_loss);
  EXPECT_EQ(a.score_entries, b.score_entries);
}

void expect_same_run(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.users, b.users);
  EXPECT_EQ(a.items, b.items);
  EXPECT_EQ(a.head, b.head);
  EXPECT_EQ(a.state.global_step, b.state.global_step);
  EXPECT_EQ(a.state.epochs_done, b.state.epochs_done);
  EXPECT_EQ(a.state.shuffle_state, b.state.shuffle_state);
  EXPECT_EQ(a.state.order, b.state.order);
  EXPECT_EQ(a.state.dense_slots, b.state.dense_slots);
  EXPECT_EQ(a.state.sparse_slots, b.state.sparse_slots);
  ASSERT_EQ(a.state.history.size(), b.state.history.size());
  for (size_t e = 0; e < a.state.history.size(); ++e) expect_same_stats(a.state.history[e], b.state.history[e]);
}

// Stopping after any step and continuing in a new trainer and model from the
// saved weights and state gives exactly the uninterrupted run: mid-epoch,
// at an epoch boundary, just before the partial last batch; reshuffled every
// epoch, with batch-splitting threads too.
TEST(Trainer, ContinuingFromSavedStateEqualsUninterruptedRun) {
  const Examples ex = planted_examples(950, 4);  // 10 steps of 100, the last one 50
  for (const auto& [workers, mode] : {std::pair{1, ShuffleMode::kEveryEpoch}, std::pair{3, ShuffleMode::kEveryEpoch},
                                      std::pair{1, ShuffleMode::kOnce}}) {
    TrainConfig cfg;
    cfg.batch_size = 100;
    cfg.epochs = 3;
    cfg.shuffle = mode;
    cfg.shuffle_seed = 77;
    cfg.workers = workers;
    const ModelShape shape{20, 30, 4, {8}};

    MultiTaskModel reference(shape, 100, workers);
    reference.init(5);
    Trainer ref_trainer(reference, cfg);
    ref_trainer.fit(ex);
    const Snapshot expected = snapshot(reference, ref_trainer.state());
    ASSERT_EQ(expected.state.global_step, 30);

    for (int64_t stop : {4, 10, 19, 29, 30}) {
      SCOPED_TRACE("workers " + std::to_string(workers) + ", shuffle " + to_string(mode) +
                   ", stopped after step " + std::to_string(stop));
      MultiTaskModel first(shape, 100, workers);
      first.init(5);
      Trainer first_trainer(first, cfg);
      std::optional<Snapshot> saved;
      first_trainer.fit(ex, {}, [&](const TrainerState& s) {
        if (s.global_step == stop) saved = snapshot(first, s);
      });
      ASSERT_TRUE(saved.has_value());

      // A model initialised differently, so only the restore can make it equal.
      MultiTaskModel resumed(shape, 100, workers);
      resumed.init(6);
      restore_weights(resumed, *saved);
      Trainer resumed_trainer(resumed, cfg);
      resumed_trainer.restore(saved->state);
      const auto history = resumed_trainer.fit(ex);
      ASSERT_EQ(history.size(), 3u);
      expect_same_run(expected, snapshot(resumed, resumed_trainer.state()));
    }
  }
}

// The order each epoch visits the examples in, per mode: the examples' own
// (Keras-RS), one shuffled order replayed (TFRS's cached shuffle), or a new
// one every epoch.
TEST(Trainer, ShuffleModesOrderTheEpochs) {
  const Examples ex = planted_examples(250, 6);  // 3 steps per epoch
  const auto epoch_orders = [&](ShuffleMode mode) {
    MultiTaskModel model({20, 30, 4, {8}}, 100);
    model.init(3);
    TrainConfig cfg;
    cfg.batch_size = 100;
    cfg.epochs = 3;
    cfg.shuffle = mode;
    cfg.shuffle_seed = 11;
    Trainer trainer(model, cfg);
    std::vector<std::vector<uint32_t>> orders;
    trainer.fit(ex, {}, [&](const TrainerState& s) {
      if (s.step_in_epoch == 1) orders.push_back(s.order);
    });
    EXPECT_EQ(orders.size(), 3u);
    return orders;
  };
  std::vector<uint32_t> identity(ex.size());
  std::iota(identity.begin(), identity.end(), 0u);
  const auto is_permutation = [&](std::vector<uint32_t> o) {
    std::sort(o.begin(), o.end());
    return o == identity;
  };

  for (const auto& o : epoch_orders(ShuffleMode::kNone)) EXPECT_EQ(o, identity);

  const auto once = epoch_orders(ShuffleMode::kOnce);
  EXPECT_NE(once[0], identity);
  EXPECT_TRUE(is_permutation(once[0]));
  EXPECT_EQ(once[1], once[0]);
  EXPECT_EQ(once[2], once[0]);

  const auto every = epoch_orders(ShuffleMode::kEveryEpoch);
  EXPECT_EQ(every[0], once[0]);  // the same seed draws the same first order
  EXPECT_NE(every[1], every[0]);
  EXPECT_NE(every[2], every[1]);
  for (const auto& o : every) EXPECT_TRUE(is_permutation(o));

  EXPECT_EQ(parse_shuffle_mode(to_string(ShuffleMode::kOnce)), ShuffleMode::kOnce);
  EXPECT_EQ(parse_shuffle_mode("every-epoch"), ShuffleMode::kEveryEpoch);
  EXPECT_THROW(parse_shuffle_mode("sometimes"), Error);
}

TEST(Trainer, StepHookSeesEveryStepAndEpochBoundaries) {
  const Examples ex = planted_examples(250, 5);  // 3 steps per epoch
  MultiTaskModel model({20, 30, 4, {8}}, 100);
  model.init(1);
  TrainConfig cfg;
  cfg.batch_size = 100;
  cfg.epochs = 2;
  Trainer trainer(model, cfg);
  std::vector<std::pair<int64_t, int64_t>> seen;  // (global step, step in epoch)
  int epochs_reported = 0;
  trainer.fit(
      ex, [&](const EpochStats&) { ++epochs_reported; },
      [&](const TrainerState& s) {
        seen.emplace_back(s.global_step, s.step_in_epoch);
        // The epoch callback has run before the hook sees a boundary.
        EXPECT_EQ(epochs_reported, s.epochs_done);
      });
  const std::vector<std::pair<int64_t, int64_t>> expected = {{1, 1}, {2, 2}, {3, 0},
                                                             {4, 1}, {5, 2}, {6, 0}};
  EXPECT_EQ(seen, expected);
}

TEST(Trainer, RestoreRejectsStateOfAnotherModelOrData) {
  const Examples ex = planted_examples(300, 6);
  MultiTaskModel model({20, 30, 4, {8}}, 100);
  model.init(1);
  TrainConfig cfg;
  cfg.batch_size = 100;
  cfg.epochs = 2;
  Trainer trainer(model, cfg);
  std::optional<TrainerState> mid;
  trainer.fit(ex, {}, [&](const TrainerState& s) {
    if (s.global_step == 4) mid = s;
  });
  ASSERT_TRUE(mid.has_value());

  auto fresh = [&] { return Trainer(model, cfg); };
  TrainerState bad = *mid;
  bad.sparse_slots[0][0].pop_back();
  EXPECT_THROW(fresh().restore(bad), Error);
  bad = *mid;
  bad.dense_slots.pop_back();
  EXPECT_THROW(fresh().restore(bad), Error);
  bad = *mid;
  bad.order[0] = bad.order[1];  // not a permutation
  EXPECT_THROW(fresh().restore(bad), Error);
  bad = *mid;
  bad.global_step += 1;  // inconsistent with the history
  EXPECT_THROW(fresh().restore(bad), Error);

  // The state of 300 examples does not fit 200.
  Trainer other = fresh();
  other.restore(*mid);
  const Examples fewer = planted_examples(200, 6);
  try {
    other.fit(fewer);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("300"), std::string::npos) << e.what();
  }
}

TEST(Trainer, StopsWithStepNumberOnNonFiniteLoss) {
  Examples ex = planted_examples(300, 3);
  ex.labels[150] = std::nanf("");
  MultiTaskModel model({20, 30, 4, {8}}, 100);
  model.init(1);
  TrainConfig cfg;
  cfg.batch_size = 100;
  Trainer trainer(model, cfg);
  std::optional<Snapshot> after_step_1;
  try {
    trainer.fit(ex, {}, [&](const TrainerState& s) { after_step_1 = snapshot(model, s); });
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at step 2 "), std::string::npos) << e.what();
  }
  // The failing step changed nothing: weights and state are those of the last
  // finite step, which a checkpoint would hold.
  ASSERT_TRUE(after_step_1.has_value());
  EXPECT_EQ(after_step_1->state.global_step, 1);
  expect_same_run(*after_step_1, snapshot(model, trainer.state()));
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
