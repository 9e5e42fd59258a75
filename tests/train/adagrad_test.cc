#include "tandem/train/adagrad.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tandem/model/multitask_model.h"
#include "tandem/train/optimizer.h"

namespace tandem {
namespace {

TEST(Adagrad, HandComputedSteps) {
  AdagradStep cfg;  // lr 0.1, eps 1e-7; acc starts at 0.1
  float w = 1.0f, acc = 0.1f;
  const float g1 = 0.5f;
  adagrad_update(cfg, &w, &acc, &g1, 1);
  // acc = 0.1 + 0.25 = 0.35 ; w = 1 - 0.1 * 0.5 / (sqrt(0.35) + 1e-7)
  EXPECT_FLOAT_EQ(acc, 0.35f);
  EXPECT_NEAR(w, 1.0 - 0.05 / (std::sqrt(0.35) + 1e-7), 1e-6);
  const float g2 = -1.0f;
  const float w1 = w;
  adagrad_update(cfg, &w, &acc, &g2, 1);
  EXPECT_FLOAT_EQ(acc, 1.35f);
  EXPECT_NEAR(w, w1 + 0.1 / (std::sqrt(1.35) + 1e-7), 1e-6);
}

// With an L2 penalty the rule sees g + l2 * w (w before the step).
TEST(Adagrad, L2AddsTheWeightToTheGradient) {
  AdagradStep cfg{0.1f, 1e-7f, 0.5f};
  float w = 1.0f, acc = 0.1f;
  const float g = 0.5f;
  adagrad_update(cfg, &w, &acc, &g, 1);
  // g' = 0.5 + 0.5 * 1 = 1 ; acc = 0.1 + 1 = 1.1 ; w = 1 - 0.1 * 1 / (sqrt(1.1) + 1e-7)
  EXPECT_FLOAT_EQ(acc, 1.1f);
  EXPECT_NEAR(w, 1.0 - 0.1 / (std::sqrt(1.1) + 1e-7), 1e-6);
  // A zero gradient still moves the weight towards 0 under the penalty.
  const float zero = 0.0f;
  const float w1 = w;
  adagrad_update(cfg, &w, &acc, &zero, 1);
  EXPECT_LT(w, w1);
  EXPECT_GT(w, 0.0f);
}

TEST(Adagrad, ZeroGradientChangesNothing) {
  AdagradStep cfg;
  float w = 0.3f, acc = 0.1f;
  const float g = 0.0f;
  adagrad_update(cfg, &w, &acc, &g, 1);
  EXPECT_EQ(w, 0.3f);
  EXPECT_EQ(acc, 0.1f);
}

// An independent dense reference: Keras' Adagrad (tf.keras.optimizers.Adagrad
// with its defaults, initial_accumulator_value 0.1, epsilon 1e-7) written out
// here in double, calling no project optimizer code. `grad` is the dense
// gradient of the whole table: rows the batch did not touch have g = 0, for
// which the rule changes neither acc nor w.
struct DenseAdagradReference {
  double lr = 0.1, eps = 1e-7;
  std::vector<double> w, acc;
  explicit DenseAdagradReference(const std::vector<float>& weights)
      : w(weights.begin(), weights.end()), acc(weights.size(), 0.1) {}
  void step(const std::vector<double>& grad) {
    for (size_t i = 0; i < w.size(); ++i) {
      acc[i] += grad[i] * grad[i];
      w[i] -= lr * grad[i] / (std::sqrt(acc[i]) + eps);
    }
  }
};

// The table's dense gradient from per-example gradients: a row repeated in
// the batch gets the sum of its examples' gradients (what TF does with
// IndexedSlices before a sparse apply: duplicate indices are summed, then the
// accumulator is updated once per distinct row).
std::vector<double> dense_gradient(const std::vector<int32_t>& ids, const std::vector<float>& grads,
                                   int64_t rows, int64_t d) {
  std::vector<double> g(static_cast<size_t>(rows * d), 0.0);
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t j = 0; j < d; ++j) g[ids[i] * d + j] += grads[i * d + j];
  return g;
}

// Float against the double reference: a few float roundings per step, far
// below any step's change (~1e-2 here).
void expect_table_matches(const std::vector<float>& actual, const std::vector<double>& ref,
                          const std::string& what) {
  ASSERT_EQ(actual.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i)
    EXPECT_NEAR(actual[i], ref[i], 1e-6 * std::max(1.0, std::fabs(ref[i]))) << what << " value " << i;
}

// A row repeated within a batch: its gradients are summed and the accumulator
// is updated once with the square of the sum, as Keras/TF Adagrad does on
// IndexedSlices. Updating once per occurrence would add the sum of squares
// instead (row 2 below: 0.1 + 0.25 + 0.0625 + 1 = 1.4125 rather than
// 0.1 + 1.25^2 = 1.6625), and move w differently.
// Through the Optimizer, so the initial accumulator is the configured one.
TEST(Adagrad, RepeatedRowsInABatchAreSummedBeforeOneUpdate) {
  const int64_t rows = 6, d = 2;
  EmbeddingTable table(rows, d);
  for (int64_t i = 0; i < rows * d; ++i) table.weights[i] = 0.1f * static_cast<float>(i) - 0.5f;
  DenseAdagradReference ref(table.weights);
  Optimizer opt(OptimizerConfig{});  // Keras' Adagrad defaults
  opt.begin_step(0, 2);
  ASSERT_EQ(opt.learning_rate(), 0.1f);
  OptimizerSlots slots = opt.make_slots(table.weights.size());
  const std::vector<std::vector<int32_t>> batches = {{2, 0, 2, 2, 5}, {5, 5, 1, 0}};
  const std::vector<std::vector<float>> grads = {
      {0.5f, -1.0f, 0.2f, 0.3f, -0.25f, 0.5f, 1.0f, 2.0f, -0.4f, 0.1f},
      {0.3f, 0.6f, 0.3f, -0.2f, -1.5f, 0.25f, 0.05f, -0.7f}};
  for (size_t b = 0; b < batches.size(); ++b) {
    const auto& ids = batches[b];
    const int64_t n = static_cast<int64_t>(ids.size());
    RowGradient g(rows, d, n);
    g.assign(ids.data(), grads[b].data(), n);
    ASSERT_LT(g.count(), n) << "the batch must repeat a row";
    opt.begin_step(static_cast<int64_t>(b), 2);
    const std::vector<float> before = table.weights;
    opt.update_rows(table, g, slots);
    ref.step(dense_gradient(ids, grads[b], rows, d));
    expect_table_matches(table.weights, ref.w, "weights, batch " + std::to_string(b));
    expect_table_matches(slots[0], ref.acc, "accumulator, batch " + std::to_string(b));
    // Lazy rows: a row the batch did not touch is not written at all.
    for (int64_t r = 0; r < rows; ++r) {
      if (std::find(ids.begin(), ids.end(), r) != ids.end()) continue;
      for (int64_t j = 0; j < d; ++j) EXPECT_EQ(table.weights[r * d + j], before[r * d + j]) << "row " << r;
    }
  }
  // Row 2 (in batch 0 only), by hand: g = (0.5 - 0.25 + 1.0, -1.0 + 0.5 + 2.0)
  // = (1.25, 1.5) summed first, so acc = 0.1 + g^2 = (1.6625, 2.35).
  EXPECT_NEAR(slots[0][2 * d + 0], 1.6625, 1e-6);
  EXPECT_NEAR(slots[0][2 * d + 1], 2.35, 1e-6);
  EXPECT_EQ(slots[0][3 * d], 0.1f);  // row 3 never touched
}

// The model's own batches (gradients of both tasks through RowGradient), with
// repeated users, repeated items and a repeated (user, item) pair in every
// batch: the sparse steps must follow the independent dense reference.
TEST(Adagrad, SparseRowUpdatesFollowAnIndependentDenseReference) {
  ModelShape shape{30, 40, 8, {16}};
  const int64_t n = 12;
  MultiTaskModel model(shape, n);
  model.init(3);
  AdagradStep cfg;
  std::vector<float> uacc(model.user_table().weights.size(), 0.1f);
  std::vector<float> iacc(model.item_table().weights.size(), 0.1f);
  DenseAdagradReference ref_users(model.user_table().weights), ref_items(model.item_table().weights);
  const std::vector<float> initial_users = model.user_table().weights;
  Rng rng(8);
  for (int step = 0; step < 5; ++step) {
    std::vector<int32_t> users(n), items(n);
    std::vector<float> labels(n);
    for (int64_t i = 0; i < n; ++i) {
      users[i] = static_cast<int32_t>(rng.below(30));
      items[i] = static_cast<int32_t>(rng.below(40));
      labels[i] = rng.uniform(0, 1);
    }
    users[5] = users[4];  // a repeated user with another item
    items[7] = items[6];  // a repeated item with another user
    users[9] = users[8];  // a repeated (user, item) pair
    items[9] = items[8];
    model.compute_gradients({users.data(), items.data(), labels.data(), n}, {1.0f, 1.0f});
    ASSERT_LT(model.user_grad().count(), n);
    ASSERT_LT(model.item_grad().count(), n);
    // The reference gets the dense gradient scattered from the model's
    // per-row sums (summing a repeated row's examples is the model's part,
    // checked by finite differences in tests/model).
    auto scatter = [](const RowGradient& g, int64_t rows, int64_t d) {
      std::vector<double> full(static_cast<size_t>(rows * d), 0.0);
      for (int64_t s = 0; s < g.count(); ++s)
        for (int64_t j = 0; j < d; ++j) full[g.rows()[s] * d + j] += g.grad(s)[j];
      return full;
    };
    ref_users.step(scatter(model.user_grad(), 30, 8));
    ref_items.step(scatter(model.item_grad(), 40, 8));
    adagrad_update_rows(cfg, model.user_table(), uacc, model.user_grad());
    adagrad_update_rows(cfg, model.item_table(), iacc, model.item_grad());
    const std::string at = "step " + std::to_string(step);
    expect_table_matches(model.user_table().weights, ref_users.w, "user weights, " + at);
    expect_table_matches(model.item_table().weights, ref_items.w, "item weights, " + at);
    expect_table_matches(uacc, ref_users.acc, "user accumulator, " + at);
    expect_table_matches(iacc, ref_items.acc, "item accumulator, " + at);
    if (HasFatalFailure() || HasNonfatalFailure()) return;  // one step's report is enough
  }
  // And the test is not vacuous: the tables did move.
  EXPECT_NE(initial_users, model.user_table().weights);
}

}  // namespace
}  // namespace tandem
