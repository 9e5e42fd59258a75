#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradient_check.h"
#include "tandem/core/random.h"
#include "tandem/model/mse_loss.h"
#include "reference_softmax.h"

namespace tandem {
namespace {

TEST(MseLoss, HandComputedValue) {
  const float p[] = {1, 2, 3}, y[] = {1, 3, 5};
  EXPECT_DOUBLE_EQ(MseLoss::forward(p, y, 3), 5.0 / 3.0);
  float g[3];
  MseLoss::backward(p, y, 3, 1.0f, g);
  EXPECT_FLOAT_EQ(g[0], 0.0f);
  EXPECT_FLOAT_EQ(g[1], -2.0f / 3.0f);
  EXPECT_FLOAT_EQ(g[2], -4.0f / 3.0f);
}

TEST(MseLoss, GradientMatchesFiniteDifferences) {
  Rng rng(11);
  std::vector<float> p(7), y(7), g(7);
  for (auto& v : p) v = rng.uniform(-2, 2);
  for (auto& v : y) v = rng.uniform(-2, 2);
  MseLoss::backward(p.data(), y.data(), 7, 0.7f, g.data());
  auto loss = [&] { return 0.7 * MseLoss::forward(p.data(), y.data(), 7); };
  testing::expect_gradient_matches(loss, p.data(), g.data(), 7, "prediction", 1e-3f);
}

TEST(RetrievalSoftmaxPlain, HandComputedTwoByTwo) {
  // q0 = (1, 0), q1 = (0, 1); c0 = (2, 0), c1 = (0, 0)
  // S = [[2, 0], [0, 0]] ; L = (log(e^2 + 1) - 2) + (log 2 - 0)
  const float q[] = {1, 0, 0, 1}, c[] = {2, 0, 0, 0};
  testing::PlainSoftmax loss(2);
  const double expected = std::log(std::exp(2.0) + 1.0) - 2.0 + std::log(2.0);
  EXPECT_NEAR(loss.forward(q, c, 2, 2), expected, 1e-6);
}

// Large logits must not overflow: log-sum-exp is computed with the row max.
TEST(RetrievalSoftmaxPlain, StableForLargeScores) {
  const float q[] = {100, 0, 0, 100}, c[] = {10, 0, 0, 10};
  testing::PlainSoftmax loss(2);
  const double v = loss.forward(q, c, 2, 2);
  EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(v, 0.0, 1e-6);  // diagonal dominates by 1000
}

void check_softmax_gradients(int64_t n, int64_t d, int64_t block) {
  Rng rng(5 + n);
  std::vector<float> q(n * d), c(n * d), dq(n * d), dc(n * d);
  for (auto& v : q) v = rng.uniform(-1, 1);
  for (auto& v : c) v = rng.uniform(-1, 1);
  testing::PlainSoftmax loss(n, block);
  const float scale = 0.8f;
  const double l = loss.forward_backward(q.data(), c.data(), n, d, scale, dq.data(), dc.data());
  EXPECT_NEAR(l, loss.forward(q.data(), c.data(), n, d), 1e-9);
  auto f = [&] { return scale * loss.forward(q.data(), c.data(), n, d); };
  const std::vector<float> dq0 = dq, dc0 = dc;
  testing::expect_gradient_matches(f, q.data(), dq0.data(), n * d, "query", 1e-2f);
  testing::expect_gradient_matches(f, c.data(), dc0.data(), n * d, "candidate", 1e-2f);
}

TEST(RetrievalSoftmaxPlain, GradientMatchesFiniteDifferencesOneBlock) {
  check_softmax_gradients(6, 4, 256);
}

// Blocks smaller than the batch (and not dividing it) must give the same loss
// and gradients as one block.
TEST(RetrievalSoftmaxPlain, GradientMatchesFiniteDifferencesManyBlocks) {
  check_softmax_gradients(7, 3, 2);
}

TEST(RetrievalSoftmaxPlain, BlockedEqualsUnblocked) {
  const int64_t n = 37, d = 8;
  Rng rng(9);
  std::vector<float> q(n * d), c(n * d);
  for (auto& v : q) v = rng.uniform(-1, 1);
  for (auto& v : c) v = rng.uniform(-1, 1);
  std::vector<float> dq1(n * d), dc1(n * d), dq2(n * d), dc2(n * d);
  testing::PlainSoftmax whole(n, n), blocked(n, 5);
  const double l1 = whole.forward_backward(q.data(), c.data(), n, d, 1.0f, dq1.data(), dc1.data());
  const double l2 = blocked.forward_backward(q.data(), c.data(), n, d, 1.0f, dq2.data(), dc2.data());
  EXPECT_NEAR(l1, l2, 1e-6 * std::fabs(l1));  // float scores, summed in another order
  for (int64_t i = 0; i < n * d; ++i) {
    EXPECT_NEAR(dq1[i], dq2[i], 1e-5f);
    EXPECT_NEAR(dc1[i], dc2[i], 1e-5f);
  }
}

}  // namespace
}  // namespace tandem
