#include "tandem/train/step_traffic.h"

#include <gtest/gtest.h>

#include "tandem/train/trainer.h"

namespace tandem {
namespace {

// Two tables of dim 2 (4 lookups each; 3 and 2 distinct rows), Adagrad (one
// slot), 10 dense values, one head 4 -> 3 -> 1, 6 score entries, batch 4.
TrafficShape small_shape(int workers) {
  TrafficShape s;
  s.examples = 4;
  s.workers = workers;
  s.optimizer_slots = 1;
  s.tables = {{"user_embedding", 2, 4, 3}, {"item_embedding", 2, 4, 2}};
  s.rows_measured = true;
  s.dense_floats = 10;
  s.heads = {{4, 3, 1}};
  s.task_dim = 2;
  s.score_entries = 6;
  return s;
}

TEST(StepTraffic, CountsEachPhaseByHand) {
  const StepTraffic t = estimate_step_traffic(small_shape(1));
  // gather: 2 x lookups x dim x 4 per table = 64 + 64
  EXPECT_DOUBLE_EQ(t.gather, 128);
  // scatter: (lookups + rows) x dim x 4 = (4+3)*8 + (4+2)*8
  EXPECT_DOUBLE_EQ(t.scatter, 104);
  // sparse update: rows x dim x (1 + 2 x (1 + 1 slot)) x 4 = 3*2*5*4 + 2*2*5*4
  EXPECT_DOUBLE_EQ(t.sparse_update, 200);
  // dense update: 10 x 5 x 4
  EXPECT_DOUBLE_EQ(t.dense_update, 200);
  EXPECT_DOUBLE_EQ(t.reduce, 0);  // one worker
  // softmax: (5 x 6 entries + 4 x 4 examples x 2 dim) x 4
  EXPECT_DOUBLE_EQ(t.softmax, 248);
  // activations: input 4 x 4 x 4 = 64; 4->3: (3*4*(4+3) + 3*1*4*3) * 4 = 480;
  // 3->1: (3*4*(3+1) + 3*1*3*1) * 4 = 228
  EXPECT_DOUBLE_EQ(t.activations, 64 + 480 + 228);
  EXPECT_DOUBLE_EQ(t.total(), 128 + 104 + 200 + 200 + 248 + 772);
}

TEST(StepTraffic, WorkersAddTheReductionAndTheirWeightGradients) {
  const StepTraffic t = estimate_step_traffic(small_shape(2));
  EXPECT_DOUBLE_EQ(t.reduce, 3 * 10 * 4);  // 2 partials read, the sum written
  // the weights' term doubles: 4->3: (84 + 2*36) * 4; 3->1: (48 + 2*9) * 4
  EXPECT_DOUBLE_EQ(t.activations, 64 + 624 + 264);
}

TEST(StepTraffic, JsonReportsRateAndFractionOfBandwidth) {
  const StepTraffic t = estimate_step_traffic(small_shape(1));
  const auto j = t.to_json(1e-6, 2.0);  // 1652 bytes in 1 us = 1.652 GB/s
  EXPECT_DOUBLE_EQ(j["bytes_per_step"]["total"].get<double>(), 1652);
  EXPECT_NEAR(j["achieved_gbs"].get<double>(), 1.652, 1e-12);
  EXPECT_NEAR(j["fraction_of_bandwidth"].get<double>(), 0.826, 1e-12);
  EXPECT_EQ(j["touched_rows"], "measured");
  EXPECT_FALSE(t.to_json(1e-6, 0.0).contains("fraction_of_bandwidth"));
}

Examples four_examples() {
  Examples ex;
  ex.users = {0, 1, 1, 2};  // 3 distinct
  ex.items = {0, 0, 3, 3};  // 2 distinct
  ex.labels = {0.1f, 0.2f, 0.3f, 0.4f};
  return ex;
}

TEST(StepTraffic, ShapeOfATrainedModelCountsItsRowsAndParameters) {
  MultiTaskModel model({5, 4, 2, {3}}, 4);
  model.init(1);
  TrainConfig cfg;  // Adagrad: one slot
  cfg.batch_size = 4;
  cfg.epochs = 1;
  Trainer trainer(model, cfg);
  trainer.run_epoch(four_examples());
  const TrafficShape s = traffic_shape(trainer, 4);
  EXPECT_TRUE(s.rows_measured);
  EXPECT_DOUBLE_EQ(s.examples, 4);
  EXPECT_EQ(s.optimizer_slots, 1);
  ASSERT_EQ(s.tables.size(), 2u);
  EXPECT_DOUBLE_EQ(s.tables[0].lookups, 4);
  EXPECT_DOUBLE_EQ(s.tables[0].rows, 3);
  EXPECT_DOUBLE_EQ(s.tables[1].rows, 2);
  EXPECT_EQ(s.tables[0].dim, 2);
  EXPECT_EQ(s.dense_floats, 4 * 3 + 3 + 3 * 1 + 1);  // the rating head's kernels and biases
  ASSERT_EQ(s.heads.size(), 1u);
  EXPECT_EQ(s.heads[0], (std::vector<int64_t>{4, 3, 1}));
  EXPECT_DOUBLE_EQ(s.score_entries, 3 * 2);  // distinct users x distinct items
  // The hand count above with 19 dense values instead of 10.
  EXPECT_DOUBLE_EQ(estimate_step_traffic(s).total(), 1652 - 200 + 19 * 5 * 4);
}

TEST(StepTraffic, WithoutStepsTheBatchIsAnUpperBound) {
  MultiTaskModel model({5, 4, 2, {3}}, 4);
  TaskWeights retrieval_only;
  retrieval_only.ranking = 0.0f;
  const TrafficShape s = traffic_shape(model, retrieval_only, 1, 2, StepProfile{}, 4);
  EXPECT_FALSE(s.rows_measured);
  EXPECT_DOUBLE_EQ(s.tables[0].rows, 4);
  EXPECT_DOUBLE_EQ(s.tables[1].rows, 4);
  EXPECT_EQ(s.dense_floats, 0);  // the rating head is not trained
  EXPECT_TRUE(s.heads.empty());
  EXPECT_DOUBLE_EQ(s.score_entries, 16);  // batch x batch
  EXPECT_EQ(estimate_step_traffic(s).to_json(1.0, 1.0)["touched_rows"], "upper bound (lookups)");
}

}  // namespace
}  // namespace tandem
