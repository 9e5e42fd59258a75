// The sharded step against one process: N ranks (threads sharing a
// ThreadCommunicator) train the model one process trains, up to the order
// of float sums, and do so deterministically.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "tandem/core/error.h"
#include "tandem/core/random.h"
#include "tandem/dist/thread_communicator.h"
#include "tandem/model/shard_gather.h"
#include "tandem/model/sharded_traffic.h"
#include "tandem/train/trainer.h"

namespace tandem {
namespace {

constexpr int64_t kUsers = 37, kItems = 29;

Examples make_examples(int64_t n, bool weighted, uint64_t seed) {
  Examples ex;
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    // Skewed ids, so batches hold repeated users and items.
    const auto u = static_cast<int32_t>(rng.below(static_cast<uint64_t>(kUsers)) * rng.below(2) % kUsers);
    ex.users.push_back(u);
    ex.items.push_back(static_cast<int32_t>((u * 7 + static_cast<int32_t>(rng.below(5))) % kItems));
    ex.labels.push_back(static_cast<float>(1 + rng.below(5)));
    if (weighted) ex.weights.push_back(0.5f + static_cast<float>(rng.below(3)));
  }
  return ex;
}

struct RunSetup {
  RetrievalLossOptions retrieval{};
  bool weighted = false;
  bool extra_task = false;
  bool distinct_rows = true;
  ShuffleMode shuffle = ShuffleMode::kEveryEpoch;
  int64_t batch = 48;
  int workers = 1;
};

ModelShape shape_of(const RunSetup& s) {
  ModelShape shape;
  shape.user_rows = kUsers;
  shape.item_rows = kItems;
  shape.dim = 8;
  shape.hidden = {16};
  if (s.extra_task) {
    ExtraTaskSpec t;
    t.name = "liked";
    t.weight = 0.5f;
    t.label_threshold = 4.0f;
    shape.extra_tasks.push_back(t);
  }
  return shape;
}

struct Trained {
  std::vector<EpochStats> history;
  std::vector<float> users, items, head;  // the whole model's weights
};

std::vector<float> dense_of(const MultiTaskModel& m) {
  std::vector<float> out;
  for (const ParameterView& p : m.dense_parameter_values()) out.insert(out.end(), p.value, p.value + p.size);
  return out;
}

void configure(MultiTaskModel& m, const RunSetup& s) {
  m.init(11);
  m.set_distinct_rows(s.distinct_rows);
  if (s.retrieval.any() || s.weighted) {
    std::vector<float> log_p(static_cast<size_t>(kItems));
    for (int64_t i = 0; i < kItems; ++i) log_p[static_cast<size_t>(i)] = std::log((1.0f + static_cast<float>(i % 5)) / 100.0f);
    std::vector<int32_t> pool;
    for (int32_t i = 0; i < kItems; ++i) pool.push_back(i);
    m.configure_retrieval(s.retrieval, log_p, pool);
  }
}

TrainConfig train_config(const RunSetup& s) {
  TrainConfig tc;
  tc.batch_size = s.batch;
  tc.epochs = 3;
  tc.shuffle = s.shuffle;
  tc.shuffle_seed = 5;
  tc.sample_seed = 9;
  tc.workers = s.workers;
  tc.optimizer.learning_rate = 0.1f;
  return tc;
}

Trained train_alone(const Examples& ex, const RunSetup& s) {
  MultiTaskModel m(shape_of(s), s.batch, s.workers, s.retrieval.mixed_negatives);
  configure(m, s);
  Trainer t(m, train_config(s));
  Trained out;
  out.history = t.fit(ex);
  out.users = m.user_table().weights;
  out.items = m.item_table().weights;
  out.head = dense_of(m);
  return out;
}

Trained train_sharded(const Examples& ex, const RunSetup& s, int ranks) {
  Trained out;
  std::mutex mu;
  run_ranks(ranks, [&](Communicator& comm) {
    MultiTaskModel m(shape_of(s), s.batch, s.workers, s.retrieval.mixed_negatives, {comm.rank(), ranks});
    configure(m, s);
    m.set_communicator(&comm);
    const Examples part = take_shard(ex, comm.rank(), ranks);
    ShardedExamplesSource source(part, static_cast<int64_t>(ex.size()), comm.rank(), ranks);
    Trainer t(m, train_config(s));
    std::vector<EpochStats> history = t.fit(source);
    std::unique_ptr<MultiTaskModel> whole;
    if (comm.rank() == 0) {
      whole = std::make_unique<MultiTaskModel>(shape_of(s), s.batch, 1, s.retrieval.mixed_negatives);
    }
    gather_shards(m, comm, whole.get());
    if (comm.rank() == 0) {
      std::lock_guard<std::mutex> lock(mu);
      out.history = history;
      out.users = whole->user_table().weights;
      out.items = whole->item_table().weights;
      out.head = dense_of(*whole);
    }
  });
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0.0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    m = std::max(m, static_cast<double>(std::abs(a[i] - b[i])));
  return m;
}

void expect_same_training(const Trained& a, const Trained& b, double loss_tol, double weight_tol) {
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t e = 0; e < a.history.size(); ++e) {
    const EpochStats &x = a.history[e], &y = b.history[e];
    EXPECT_EQ(x.examples, y.examples);
    EXPECT_EQ(x.steps, y.steps);
    EXPECT_NEAR(x.ranking_loss, y.ranking_loss, loss_tol * std::abs(x.ranking_loss) + 1e-9) << "epoch " << e + 1;
    EXPECT_NEAR(x.retrieval_loss, y.retrieval_loss, loss_tol * std::abs(x.retrieval_loss) + 1e-9)
        << "epoch " << e + 1;
    ASSERT_EQ(x.extra_losses.size(), y.extra_losses.size());
    for (size_t k = 0; k < x.extra_losses.size(); ++k)
      EXPECT_NEAR(x.extra_losses[k], y.extra_losses[k], loss_tol * std::abs(x.extra_losses[k]) + 1e-9);
  }
  EXPECT_LT(max_abs_diff(a.users, b.users), weight_tol);
  EXPECT_LT(max_abs_diff(a.items, b.items), weight_tol);
  EXPECT_LT(max_abs_diff(a.head, b.head), weight_tol);
}

void check_against_one_process(const RunSetup& s) {
  // 289 = 6 x 48 + 1: the last batch has one example, so some ranks get
  // none of it.
  const Examples ex = make_examples(289, s.weighted, 3);
  const Trained alone = train_alone(ex, s);
  for (int ranks : {1, 2, 3, 4}) {
    SCOPED_TRACE(testing::Message() << ranks << " ranks");
    const Trained sharded = train_sharded(ex, s, ranks);
    expect_same_training(alone, sharded, 1e-5, 1e-4);
  }
}

TEST(ShardedTraining, PlainSoftmaxMatchesOneProcess) { check_against_one_process({}); }

TEST(ShardedTraining, FullMatrixSoftmaxMatchesOneProcess) {
  RunSetup s;
  s.distinct_rows = false;
  s.shuffle = ShuffleMode::kNone;
  check_against_one_process(s);
}

TEST(ShardedTraining, RetrievalOptionsKeepTheirMeaning) {
  RunSetup s;
  s.retrieval.temperature = 0.5f;
  s.retrieval.remove_accidental_hits = true;
  s.retrieval.logq_correction = true;
  s.retrieval.hard_negatives = 6;
  s.retrieval.mixed_negatives = 7;
  check_against_one_process(s);
}

TEST(ShardedTraining, WeightedExamplesAndAnExtraTask) {
  RunSetup s;
  s.weighted = true;
  s.extra_task = true;
  s.shuffle = ShuffleMode::kOnce;
  check_against_one_process(s);
}

TEST(ShardedTraining, WorkerThreadsInsideEachRank) {
  RunSetup s;
  s.workers = 2;
  s.retrieval.mixed_negatives = 3;
  check_against_one_process(s);
}

TEST(ShardedTraining, BitIdenticalForAFixedRankCount) {
  RunSetup s;
  s.retrieval.mixed_negatives = 5;
  const Examples ex = make_examples(257, false, 4);
  const Trained a = train_sharded(ex, s, 3), b = train_sharded(ex, s, 3);
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t e = 0; e < a.history.size(); ++e) {
    EXPECT_EQ(a.history[e].ranking_loss, b.history[e].ranking_loss);
    EXPECT_EQ(a.history[e].retrieval_loss, b.history[e].retrieval_loss);
  }
  EXPECT_EQ(a.users, b.users);
  EXPECT_EQ(a.items, b.items);
  EXPECT_EQ(a.head, b.head);
}

TEST(ShardedTraining, BytesSentAreTheFormulas) {
  // Every kind of message, with mixed negatives and an extra task, on 2-4
  // ranks: the counted bytes equal docs/distributed.md's formulas.
  RunSetup s;
  s.retrieval.mixed_negatives = 4;
  s.extra_task = true;
  const Examples ex = make_examples(203, false, 8);
  for (int ranks : {2, 3, 4}) {
    run_ranks(ranks, [&](Communicator& comm) {
      MultiTaskModel m(shape_of(s), s.batch, 1, s.retrieval.mixed_negatives, {comm.rank(), ranks});
      configure(m, s);
      m.set_communicator(&comm);
      const Examples part = take_shard(ex, comm.rank(), ranks);
      ShardedExamplesSource source(part, static_cast<int64_t>(ex.size()), comm.rank(), ranks);
      Trainer t(m, train_config(s));
      comm.reset_traffic();
      t.fit(source);
      const auto& c = m.sharded_counts();
      ASSERT_EQ(c.steps, 3 * ((203 + s.batch - 1) / s.batch));
      EXPECT_GT(c.lookup_remote_rows, 0);
      EXPECT_GT(c.scatter_remote_examples, 0);
      const auto predicted =
          predicted_sharded_bytes(c, comm.rank(), ranks, shape_of(s).dim, c.dense_floats / c.steps);
      for (int k = 0; k < kTrafficKinds; ++k)
        EXPECT_EQ(comm.traffic().bytes[static_cast<size_t>(k)], predicted[static_cast<size_t>(k)])
            << to_string(static_cast<TrafficKind>(k)) << ", rank " << comm.rank() << " of " << ranks;
    });
  }
}

TEST(ShardedTraining, EachRankHoldsItsShareOfTheTables) {
  run_ranks(3, [](Communicator& comm) {
    MultiTaskModel m(shape_of({}), 16, 1, 0, {comm.rank(), 3});
    // 37 users over 3 ranks: 13, 12, 12; 29 items: 10, 10, 9.
    const int64_t users[] = {13, 12, 12}, items[] = {10, 10, 9};
    EXPECT_EQ(m.user_table().rows, users[comm.rank()]);
    EXPECT_EQ(m.item_table().rows, items[comm.rank()]);
  });
}

TEST(ShardedTraining, RefusesWhatItCannotShard) {
  ModelShape shape = shape_of({});
  shape.multitask.arch = MultitaskArch::kMmoe;
  EXPECT_THROW(MultiTaskModel(shape, 16, 1, 0, {0, 2}), Error);
  run_ranks(2, [](Communicator& comm) {
    MultiTaskModel m(shape_of({}), 16, 1, 0, {comm.rank(), 2});
    m.set_ranking_loss({RankingLossKind::kSoftmaxListwise});
    m.set_communicator(&comm);
    Examples ex = make_examples(40, false, 1);
    const Examples part = take_shard(ex, comm.rank(), 2);
    ShardedExamplesSource source(part, 40, comm.rank(), 2);
    TrainConfig tc;
    tc.batch_size = 16;
    tc.epochs = 1;
    Trainer t(m, tc);
    try {
      t.fit(source);
      ADD_FAILURE() << "a listwise loss trained on a rank's part of a batch";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("couples the examples"), std::string::npos) << e.what();
    }
  });
}

TEST(ShardedTraining, ARankWithoutThatShardIsRefused) {
  run_ranks(2, [](Communicator& comm) {
    MultiTaskModel m(shape_of({}), 16, 1, 0, {0, 3});
    EXPECT_THROW(m.set_communicator(&comm), Error);
  });
}

}  // namespace
}  // namespace tandem
