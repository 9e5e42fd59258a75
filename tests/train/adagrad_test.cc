#include "tandem/train/adagrad.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tandem/model/multitask_model.h"

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

// Sparse row updates (only the rows a batch touched, duplicates summed) must
// equal dense Adagrad over the whole table with a scattered dense gradient,
// bit for bit, over several steps.
TEST(Adagrad, SparseRowUpdatesEqualDenseExactly) {
  ModelShape shape{30, 40, 8, {16}};
  const int64_t n = 12;
  MultiTaskModel model(shape, n);
  model.init(3);
  AdagradStep cfg;
  EmbeddingTable dense_users = model.user_table(), dense_items = model.item_table();
  std::vector<float> sparse_uacc(dense_users.weights.size(), 0.1f);
  std::vector<float> sparse_iacc(dense_items.weights.size(), 0.1f);
  std::vector<float> dense_uacc = sparse_uacc, dense_iacc = sparse_iacc;
  Rng rng(8);
  for (int step = 0; step < 5; ++step) {
    std::vector<int32_t> users(n), items(n);
    std::vector<float> labels(n);
    for (int64_t i = 0; i < n; ++i) {
      users[i] = static_cast<int32_t>(rng.below(10));  // few rows: many duplicates
      items[i] = static_cast<int32_t>(rng.below(40));
      labels[i] = rng.uniform(0, 1);
    }
    // Keep the dense copy's weights in sync for the forward pass.
    ASSERT_EQ(dense_users.weights, model.user_table().weights);
    model.compute_gradients({users.data(), items.data(), labels.data(), n}, {1.0f, 1.0f});
    auto scatter = [](const RowGradient& g, int64_t rows, int64_t d) {
      std::vector<float> full(static_cast<size_t>(rows * d), 0.0f);
      for (int64_t s = 0; s < g.count(); ++s)
        for (int64_t j = 0; j < d; ++j) full[g.rows()[s] * d + j] += g.grad(s)[j];
      return full;
    };
    const auto gu = scatter(model.user_grad(), 30, 8);
    const auto gi = scatter(model.item_grad(), 40, 8);
    adagrad_update(cfg, dense_users.weights.data(), dense_uacc.data(), gu.data(),
                   static_cast<int64_t>(gu.size()));
    adagrad_update(cfg, dense_items.weights.data(), dense_iacc.data(), gi.data(),
                   static_cast<int64_t>(gi.size()));
    adagrad_update_rows(cfg, model.user_table(), sparse_uacc, model.user_grad());
    adagrad_update_rows(cfg, model.item_table(), sparse_iacc, model.item_grad());
    ASSERT_EQ(dense_users.weights, model.user_table().weights) << "step " << step;
    ASSERT_EQ(dense_items.weights, model.item_table().weights) << "step " << step;
    ASSERT_EQ(dense_uacc, sparse_uacc) << "step " << step;
    ASSERT_EQ(dense_iacc, sparse_iacc) << "step " << step;
  }
  // And the test is not vacuous: the tables did move.
  MultiTaskModel fresh(shape, n);
  fresh.init(3);
  EXPECT_NE(fresh.user_table().weights, model.user_table().weights);
}

}  // namespace
}  // namespace tandem
